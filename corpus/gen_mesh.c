/* gen_mesh.c - synthetic meshes (STL, PLY, OBJ/MTL) and 3Shape HPS .dcm for the corpus.
 *
 * Included by gencase.c (one translation unit: it uses gencase's rng, doc and case
 * data).  Each generator writes the file's raw bytes into d->b and records every
 * planted identifier with d_addspan(d, start, end, class, mode) in byte offsets;
 * GEN_MESH_FILES lists the files a case gets as filespec rows {name, gen, CS_RAW, 0}.
 *
 * What is planted where (shared/reference/dental-formats.md 3.1-3.3, 4.1): the
 * patient's name and birth date in the binary STL header (which sometimes starts
 * with `solid`, sometimes carries a Magics COLOR=/MATERIAL= block with binary
 * payload); the name on ASCII STL `solid`/`endsolid`; PLY comments in odd places
 * (between element and property lines, an empty comment, a texture file name) in
 * all three encodings; OBJ comments and object names, MTL comments and texture file
 * names; an HPS scan with a scanner serial number, sometimes a PatientName property,
 * and the name inside a base64 UTF-16 XML property (the span covers the base64
 * quanta that encode it), once in UTF-8 and once in UTF-16LE.  Geometry is random but
 * well-formed.
 */

#define MESH_HEADER 80

static void m_u8(struct doc *d, unsigned v)
{
	unsigned char b = (unsigned char)v;
	b_put(&d->b, &b, 1);
}

static void m_u16le(struct doc *d, unsigned v)
{
	unsigned char b[2] = {(unsigned char)v, (unsigned char)(v >> 8)};
	b_put(&d->b, b, 2);
}

static void m_u32(struct doc *d, uint32_t v, int be)
{
	unsigned char b[4];
	for (int i = 0; i < 4; i++)
		b[be ? 3 - i : i] = (unsigned char)(v >> (8 * i));
	b_put(&d->b, b, 4);
}

static void m_f32(struct doc *d, float f, int be)
{
	uint32_t u;
	memcpy(&u, &f, sizeof u);
	m_u32(d, u, be);
}

static float m_coord(struct rng *r)
{
	return (float)rnd_range(r, -30000, 30000) / 1000.0f;
}

/* "Given Family" when it fits in max bytes, else the family name alone. */
static void m_name(struct doc *d, const struct casedata *c, size_t max, char sep)
{
	if (strlen(c->pg) + strlen(c->pf) + 1 <= max)
		V(d, C_NAME, "%s%c%s", c->pg, sep, c->pf);
	else
		V(d, C_NAME, "%.*s", (int)max, c->pf);
}

/* ---- STL ---- */

static void gen_stl_upper(struct doc *d, struct rng *r, const struct casedata *c)
{
	char dob[16];
	unsigned style = rnd_below(r, 3);
	fmt_date(dob, sizeof dob, c->dob, DF_MDY);
	if (style == 0) {
		T(d, "solid "); /* a binary STL that starts like an ASCII one */
	} else if (style == 1) {
		T(d, "COLOR=");
		for (int i = 0; i < 4; i++)
			m_u8(d, rnd_below(r, 256));
		T(d, ",MATERIAL=");
		for (int i = 0; i < 12; i++)
			m_u8(d, rnd_below(r, 256));
		T(d, " ");
	}
	T(d, "Patient: ");
	m_name(d, c, 30, ' ');
	T(d, " DOB: ");
	V(d, C_DATE, "%s", dob);
	if (d->b.n > MESH_HEADER)
		die("gen_stl_upper: header too long");
	while (d->b.n < MESH_HEADER)
		m_u8(d, 0);
	uint32_t n = (uint32_t)rnd_range(r, 20, 200);
	m_u32(d, n, 0);
	for (uint32_t i = 0; i < n; i++) {
		for (int k = 0; k < 12; k++)
			m_f32(d, k < 3 ? 0.0f : m_coord(r), 0);
		m_u16le(d, style == 1 ? 0x8000u | rnd_below(r, 0x8000) : 0);
	}
}

static void gen_stl_lower(struct doc *d, struct rng *r, const struct casedata *c)
{
	T(d, "solid ");
	m_name(d, c, 60, '_');
	T(d, "_lowerjaw\n");
	int n = rnd_range(r, 8, 60);
	for (int i = 0; i < n; i++) {
		T(d, "  facet normal %e %e %e\n    outer loop\n", 0.0, 0.0, 1.0);
		for (int v = 0; v < 3; v++) {
			double x = m_coord(r), y = m_coord(r), z = m_coord(r);
			T(d, "      vertex %e %e %e\n", x, y, z);
		}
		T(d, "    endloop\n  endfacet\n");
	}
	T(d, "endsolid ");
	m_name(d, c, 60, '_');
	T(d, "_lowerjaw\n");
}

/* ---- PLY ---- */

static void gen_ply(struct doc *d, struct rng *r, const struct casedata *c, int fmt,
                    const char *jaw)
{
	static const char *const fmts[] = {"ascii", "binary_little_endian", "binary_big_endian"};
	char when[16];
	int nv = rnd_range(r, 6, 40), nf = rnd_range(r, 4, 30), colour = chance(r, 50);
	fmt_date(when, sizeof when, c->scan, DF_ISO);
	T(d, "ply\nformat %s 1.0\n", fmts[fmt]);
	T(d, "comment Patient: ");
	m_name(d, c, 60, ' ');
	T(d, "\nelement vertex %d\n", nv);
	T(d, "obj_info Scan date: ");
	V(d, C_DATE, "%s", when);
	T(d, "\nproperty float x\nproperty float y\ncomment\nproperty float z\n");
	if (colour)
		T(d, "property uchar red\nproperty uchar green\nproperty uchar blue\n");
	T(d, "element face %d\ncomment TextureFile ", nf);
	m_name(d, c, 60, '_');
	T(d, "_%s.png\nproperty list uchar int vertex_indices\nend_header\n", jaw);
	int be = fmt == 2;
	for (int i = 0; i < nv; i++) {
		float x = m_coord(r), y = m_coord(r), z = m_coord(r);
		unsigned rgb[3];
		for (int k = 0; k < 3; k++)
			rgb[k] = rnd_below(r, 256);
		if (fmt == 0) {
			T(d, "%g %g %g", (double)x, (double)y, (double)z);
			if (colour)
				T(d, " %u %u %u", rgb[0], rgb[1], rgb[2]);
			T(d, "\n");
			continue;
		}
		m_f32(d, x, be);
		m_f32(d, y, be);
		m_f32(d, z, be);
		for (int k = 0; colour && k < 3; k++)
			m_u8(d, rgb[k]);
	}
	for (int i = 0; i < nf; i++) {
		int a = (int)rnd_below(r, (unsigned)nv), b = (int)rnd_below(r, (unsigned)nv),
		    e = (int)rnd_below(r, (unsigned)nv);
		if (fmt == 0) {
			T(d, "3 %d %d %d\n", a, b, e);
			continue;
		}
		m_u8(d, 3);
		m_u32(d, (uint32_t)a, be);
		m_u32(d, (uint32_t)b, be);
		m_u32(d, (uint32_t)e, be);
	}
}

static void gen_ply_upper(struct doc *d, struct rng *r, const struct casedata *c)
{
	gen_ply(d, r, c, 1 + (int)rnd_below(r, 2), "upperjaw");
}

static void gen_ply_lower(struct doc *d, struct rng *r, const struct casedata *c)
{
	gen_ply(d, r, c, (int)rnd_below(r, 3), "lowerjaw");
}

/* ---- OBJ / MTL ---- */

static void gen_obj(struct doc *d, struct rng *r, const struct casedata *c)
{
	char dob[16];
	int nv = rnd_range(r, 6, 40), nf = rnd_range(r, 4, 30);
	fmt_date(dob, sizeof dob, c->dob, DF_MDY);
	T(d, "# Exported by %s\n# Patient: ", c->scanner_model);
	m_name(d, c, 60, ' ');
	T(d, "\n# DOB: ");
	V(d, C_DATE, "%s", dob);
	T(d, "\nmtllib jaw.mtl\no ");
	m_name(d, c, 60, '_');
	T(d, "_upperjaw\n");
	for (int i = 0; i < nv; i++) {
		double x = m_coord(r), y = m_coord(r), z = m_coord(r);
		T(d, "v %g %g %g", x, y, z);
		if (i % 2) { /* Medit vertex colours */
			double cr = rnd_below(r, 1000) / 1000.0, cg = rnd_below(r, 1000) / 1000.0,
			       cb = rnd_below(r, 1000) / 1000.0;
			T(d, " %.3f %.3f %.3f", cr, cg, cb);
		}
		T(d, "\n");
	}
	T(d, "vn 0 0 1\ng upper\nusemtl Gypsum\ns off\n");
	for (int i = 0; i < nf; i++) {
		unsigned a = 1 + rnd_below(r, (unsigned)nv), b = 1 + rnd_below(r, (unsigned)nv),
		         e = 1 + rnd_below(r, (unsigned)nv);
		T(d, "f %u//1 %u//1 %u//1\n", a, b, e);
	}
}

static void gen_mtl(struct doc *d, struct rng *r, const struct casedata *c)
{
	T(d, "# Material for patient ");
	m_name(d, c, 60, ' ');
	double kr = rnd_below(r, 1000) / 1000.0, kg = rnd_below(r, 1000) / 1000.0,
	       kb = rnd_below(r, 1000) / 1000.0;
	T(d, "\nnewmtl Gypsum\nKa 1.000 1.000 1.000\nKd %.3f %.3f %.3f\nNs 10\nillum 2\nmap_Kd ",
	  kr, kg, kb);
	m_name(d, c, 60, '_');
	T(d, "_texture.jpg\n");
}

/* ---- 3Shape HPS ---- */

static void m_base64(struct buf *out, const unsigned char *p, size_t n)
{
	static const char al[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16;
		if (i + 1 < n)
			v |= (uint32_t)p[i + 1] << 8;
		if (i + 2 < n)
			v |= p[i + 2];
		char q[4] = {al[v >> 18], al[(v >> 12) & 63], i + 1 < n ? al[(v >> 6) & 63] : '=',
		             i + 2 < n ? al[v & 63] : '='};
		b_put(out, q, 4);
	}
}

/* ASCII/UTF-8 text to UTF-16LE (BMP only: the generator's names are). */
static void m_utf16(struct buf *out, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	while (*p) {
		uint32_t cp = *p++;
		if (cp >= 0xE0 && p[0] && p[1]) {
			cp = ((cp & 0x0F) << 12) | ((uint32_t)(p[0] & 0x3F) << 6) | (p[1] & 0x3F);
			p += 2;
		} else if (cp >= 0xC0 && p[0]) {
			cp = ((cp & 0x1F) << 6) | (p[0] & 0x3F);
			p++;
		}
		char u[2] = {(char)(cp & 0xFF), (char)(cp >> 8)};
		b_put(out, u, 2);
	}
}

static void m_random_b64(struct doc *d, struct rng *r, size_t n)
{
	struct buf raw = {0}, enc = {0};
	for (size_t i = 0; i < n; i++) {
		char b = (char)rnd_below(r, 256);
		b_put(&raw, &b, 1);
	}
	m_base64(&enc, (const unsigned char *)raw.p, raw.n);
	b_put(&d->b, enc.p, enc.n);
	b_free(&raw);
	b_free(&enc);
}

static void gen_hps(struct doc *d, struct rng *r, const struct casedata *c)
{
	char name[96], hex[41];
	int nv = rnd_range(r, 30, 300), nf = rnd_range(r, 20, 200);
	snprintf(name, sizeof name, "%s %s", c->pg, c->pf);
	rnd_hex(r, hex, 40);
	T(d, "<HPS version=\"1.1\">\n  <Packed_geometry>\n    <Schema>CA</Schema>\n"
	     "    <Binary_data>\n      <CA version=\"1.0\">\n");
	T(d, "        <Vertices vertex_count=\"%d\" base64_encoded_bytes=\"%d\">", nv, nv * 12);
	m_random_b64(d, r, (size_t)nv * 12);
	T(d, "</Vertices>\n        <Facets facet_count=\"%d\" base64_encoded_bytes=\"%d\">", nf, nf * 12);
	m_random_b64(d, r, (size_t)nf * 12);
	T(d, "</Facets>\n      </CA>\n    </Binary_data>\n  </Packed_geometry>\n");
	T(d, "  <SignatureHash>%s</SignatureHash>\n", hex);
	T(d, "  <Objects>\n    <Object name=\"Properties\" type=\"TStringListXML\">\n"
	     "      <String value=\"SourceApp=ThreeShape.ScanItDental.exe#2.1.9.1\"/>\n"
	     "    </Object>\n  </Objects>\n  <Properties>\n");
	T(d, "    <Property name=\"EKID\" value=\"1\"/>\n");
	T(d, "    <Property name=\"ScanSource\" value=\"ss3SE3\"/>\n");
	T(d, "    <Property name=\"ScannerSerialNumber\" value=\"");
	V(d, C_DEVICE, "%s", c->scanner_sn);
	T(d, "\"/>\n");
	if (chance(r, 50)) {
		T(d, "    <Property name=\"PatientName\" value=\"");
		V(d, C_NAME, "%s", name);
		T(d, "\"/>\n");
	}
	/* SID.Model.Metadata: base64 of UTF-16LE XML (no BOM) with the name inside */
	struct buf u16 = {0}, enc = {0};
	m_utf16(&u16, "<?xml version=\"1.0\" encoding=\"utf-16\"?>\r\n<ModelMetadata>\r\n"
	              "  <JawType>Upper</JawType>\r\n  <Comment>Patient: ");
	size_t ns = u16.n;
	m_utf16(&u16, name);
	size_t ne = u16.n;
	m_utf16(&u16, "</Comment>\r\n</ModelMetadata>");
	m_base64(&enc, (const unsigned char *)u16.p, u16.n);
	T(d, "    <Property name=\"SID.Model.Metadata\" value=\"");
	size_t v0 = d->b.n;
	b_put(&d->b, enc.p, enc.n);
	d_addspan(d, v0 + ns / 3 * 4, v0 + (ne + 2) / 3 * 4, C_NAME, M_DEFAULT);
	T(d, "\"/>\n  </Properties>\n</HPS>\n");
	b_free(&u16);
	b_free(&enc);
}

#define GEN_MESH_FILES                                                                             \
	{"scan/upper.stl", gen_stl_upper, CS_RAW, 0},                                                  \
	{"scan/lower.stl", gen_stl_lower, CS_RAW, 0},                                                  \
	{"scan/upperjaw.ply", gen_ply_upper, CS_RAW, 0},                                               \
	{"scan/lowerjaw.ply", gen_ply_lower, CS_RAW, 0},                                               \
	{"model/jaw.obj", gen_obj, CS_RAW, 0},                                                         \
	{"model/jaw.mtl", gen_mtl, CS_RAW, 0},                                                         \
	{"scan/preparation.dcm", gen_hps, CS_RAW, 0},

/* After every other media file (gencase.c), so that adding it left the random
 * streams of the files before it unchanged: an HPS scan saved as UTF-16LE with a
 * BOM (.NET's default encoding), its spans mapped by encode_doc. */
#define GEN_MESH_FILES_LATE {"scan/antagonist.dcm", gen_hps, CS_UTF16LE, 0},
