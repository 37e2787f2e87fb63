/* gen_case.c - structured case files for the corpus: exocad .dentalProject and
 * .constructionInfo, 3Shape order XML (UTF-8 and UTF-16LE) and .3ox (UTF-16LE),
 * 3Shape Communicate case JSON and its PrintableOrderForm.html.
 *
 * Included by gencase.c (one translation unit: it uses gencase's rng, doc and case
 * data).  Generators write UTF-8 into d->b and record every planted identifier
 * with V()/Vm(); GEN_CASE_FILES lists the files as filespec rows, whose encoding
 * (CS_UTF8, CS_UTF16LE with BOM) encode_doc applies with the span offsets mapped.
 *
 * What is planted where (shared/reference/dental-formats.md 4.2, 4.3, 5.1, 5.2;
 * element names there are [C] or [U], so these are synthetic fixtures built from
 * them): the patient's names, chart number, practice, technician, service date and
 * project GUID as exocad elements, a birth date in exocad notes; the project name,
 * scan dates in file names and an organisation name in an implant library path in
 * .constructionInfo, beside margin points, matrices and axes that must survive
 * byte for byte; 3Shape Property values (patient names, reference number, the
 * customer, order number) and a free-text comment with a birth date; the
 * Communicate patient, actors, e-mail addresses, case dates and comments, with
 * JSON escapes inside values; the order form's table with the birth date.
 * Each value is XML-, HTML- or JSON-escaped as its file needs, and the span covers
 * the escaped bytes.
 */

/* Escaped value as a planted span: XML/HTML (&, <, >, ") or JSON ("\\", '"', '/'
 * as "\/" for the Communicate style). */
enum { ESC_XML, ESC_JSON };

static void c_esc(struct doc *d, int esc, const char *s)
{
	for (; *s; s++) {
		if (esc == ESC_XML && *s == '&')
			T(d, "&amp;");
		else if (esc == ESC_XML && *s == '<')
			T(d, "&lt;");
		else if (esc == ESC_XML && *s == '>')
			T(d, "&gt;");
		else if (esc == ESC_XML && *s == '"')
			T(d, "&quot;");
		else if (esc == ESC_JSON && (*s == '"' || *s == '\\'))
			T(d, "\\%c", *s);
		else if (esc == ESC_JSON && *s == '/')
			T(d, "\\/");
		else
			T(d, "%c", *s);
	}
}

static void CV(struct doc *d, int cls, int esc, const char *fmt, ...) PRINTF_LIKE(4, 5);
static void CV(struct doc *d, int cls, int esc, const char *fmt, ...)
{
	char v[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(v, sizeof v, fmt, ap);
	va_end(ap);
	size_t s = d->b.n;
	c_esc(d, esc, v);
	d_addspan(d, s, d->b.n, cls, M_DEFAULT);
}

static void CT(struct doc *d, int esc, const char *fmt, ...) PRINTF_LIKE(3, 4);
static void CT(struct doc *d, int esc, const char *fmt, ...)
{
	char v[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(v, sizeof v, fmt, ap);
	va_end(ap);
	c_esc(d, esc, v);
}

/* <el>value</el> on its own line, the value planted. */
static void c_el(struct doc *d, int ind, const char *el, int cls, const char *val)
{
	T(d, "%*s<%s>", ind, "", el);
	CV(d, cls, ESC_XML, "%s", val);
	T(d, "</%s>\n", el);
}

static void c_iso(char *out, size_t cap, struct ymd a, struct rng *r)
{
	snprintf(out, cap, "%04d-%02d-%02dT%02d:%02d:%02d", a.y, a.m, a.d, rnd_range(r, 7, 18),
	         rnd_range(r, 0, 59), rnd_range(r, 0, 59));
}

static void c_float(struct doc *d, struct rng *r)
{
	T(d, "%d.%06d", rnd_range(r, -40, 40), rnd_range(r, 0, 999999));
}

static const char *const c_materials[] = {"Zirconia", "e.max CAD", "PMMA", "Titanium", "CoCr",
                                          "Wax"};
static const char *const c_recon[] = {"Crown", "Bridge", "Inlay", "Veneer", "Abutment", "Pontic"};
static const char *const c_orgs[] = {"exo-plovdiv", "labnet-east", "dentaris-group",
                                     "smilecraft-lab"};

/* ---- exocad .dentalProject ---- */

static void gen_exo_project(struct doc *d, struct rng *r, const struct casedata *c)
{
	char iso[32], dob[16];
	c_iso(iso, sizeof iso, c->dos, r);
	fmt_date(dob, sizeof dob, c->dob, DF_MDY);
	T(d, "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n");
	T(d, "<Treatment xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" "
	     "xmlns:xsd=\"http://www.w3.org/2001/XMLSchema\">\n");
	c_el(d, 2, "ProjectGUID", C_ID, c->guid);
	c_el(d, 2, "DateTime", C_DATE, iso);
	T(d, "  <Patient>\n");
	c_el(d, 4, "PatientName", C_NAME, c->pf);
	c_el(d, 4, "PatientFirstName", C_NAME, c->pg);
	c_el(d, 4, "PatientId", C_MRN, c->chart);
	T(d, "  </Patient>\n  <Practice>\n");
	c_el(d, 4, "PracticeName", C_NAME, c->practice);
	c_el(d, 4, "PracticeId", C_ACCOUNT, c->acct);
	T(d, "  </Practice>\n");
	T(d, "  <Technician>");
	CV(d, C_NAME, ESC_XML, "%s %s", c->rg, c->rf);
	T(d, "</Technician>\n  <Notes>Check contacts &amp; occlusion. DOB ");
	CV(d, C_DATE, ESC_XML, "%s", dob);
	T(d, ", shade %s.</Notes>\n  <Teeth>\n", c->shade);
	for (int i = 0, n = rnd_range(r, 1, 4); i < n; i++) {
		T(d, "    <Tooth>\n      <Number>%d</Number>\n", rnd_range(r, 11, 48));
		T(d, "      <ReconstructionType>%s</ReconstructionType>\n", PICK(r, c_recon));
		T(d, "      <PreparationType>Chamfer</PreparationType>\n");
		T(d, "      <MaterialName>%s</MaterialName>\n      <Color>%s</Color>\n", PICK(r, c_materials),
		  c->shade);
		T(d, "      <MinimalThickness>0.%d</MinimalThickness>\n    </Tooth>\n", rnd_range(r, 3, 9));
	}
	T(d, "  </Teeth>\n</Treatment>\n");
}

/* ---- exocad .constructionInfo ---- */

static void c_vec(struct doc *d, struct rng *r, int ind, const char *el)
{
	T(d, "%*s<%s><x>", ind, "", el);
	c_float(d, r);
	T(d, "</x><y>");
	c_float(d, r);
	T(d, "</y><z>");
	c_float(d, r);
	T(d, "</z></%s>\n", el);
}

static void gen_exo_construction(struct doc *d, struct rng *r, const struct casedata *c)
{
	T(d, "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<ConstructionInfo>\n");
	T(d, "  <ProjectName>");
	CV(d, C_NAME, ESC_XML, "%s_%s", c->pf, c->pg);
	T(d, "</ProjectName>\n");
	c_el(d, 2, "ProjectGUID", C_ID, c->guid);
	T(d, "  <ScanFiles>\n");
	static const char *const parts[] = {"PreparationScan", "Antagonist"};
	static const char *const jaws[] = {"upperjaw", "lowerjaw"};
	for (int k = 0; k < 2; k++) {
		T(d, "    <ScanFile>\n      <FileName>");
		VSH(d, C_DATE, "%04d-%02d-%02d", c->scan.y, c->scan.m, c->scan.d);
		T(d, "-%05d-%03d-%s.stl</FileName>\n", c->no, k, jaws[k]);
		T(d, "      <TransformationMatrix>");
		for (int i = 0; i < 4; i++)
			for (int j = 0; j < 4; j++) {
				T(d, "<_%d%d>", i, j);
				if (i == 3)
					T(d, "%d", i == j);
				else
					c_float(d, r);
				T(d, "</_%d%d>", i, j);
			}
		T(d, "</TransformationMatrix>\n      <PartType>%s</PartType>\n    </ScanFile>\n", parts[k]);
	}
	T(d, "  </ScanFiles>\n  <Teeth>\n");
	for (int t = 0, n = rnd_range(r, 1, 3); t < n; t++) {
		int tooth = rnd_range(r, 11, 48);
		T(d, "    <Tooth>\n      <Number>%d</Number>\n", tooth);
		T(d, "      <ReconstructionType>%s</ReconstructionType>\n", PICK(r, c_recon));
		T(d, "      <ToothScanFileName>");
		VSH(d, C_DATE, "%04d-%02d-%02d", c->scan.y, c->scan.m, c->scan.d);
		T(d, "-%05d-%d-tooth.stl</ToothScanFileName>\n", c->no, tooth);
		T(d, "      <FilenameImplantGeometry>C:\\exocad\\library\\%s\\implant\\%s.stl"
		     "</FilenameImplantGeometry>\n",
		  PICK(r, c_orgs), c->implant);
		T(d, "      <Margin>\n");
		for (int i = 0, m = rnd_range(r, 6, 14); i < m; i++)
			c_vec(d, r, 8, "Vec3");
		T(d, "      </Margin>\n");
		c_vec(d, r, 6, "Axis");
		c_vec(d, r, 6, "AxisMesial");
		T(d, "      <ZRotationMatrix>");
		for (int i = 0; i < 9; i++) {
			c_float(d, r);
			T(d, i < 8 ? " " : "");
		}
		T(d, "</ZRotationMatrix>\n    </Tooth>\n");
	}
	T(d, "  </Teeth>\n</ConstructionInfo>\n");
}

/* ---- 3Shape order XML and .3ox ---- */

static void c_prop(struct doc *d, int ind, const char *name, int cls, const char *val)
{
	T(d, "%*s<Property name=\"%s\" value=\"", ind, "", name);
	if (cls >= 0)
		CV(d, cls, ESC_XML, "%s", val);
	else
		CT(d, ESC_XML, "%s", val);
	T(d, "\"/>\n");
}

static void c_3shape_order(struct doc *d, struct rng *r, const struct casedata *c, const char *enc)
{
	char dob[16], cust[128];
	fmt_date(dob, sizeof dob, c->dob, DF_MDY);
	snprintf(cust, sizeof cust, "%s %s", c->dg, c->df);
	T(d, "<?xml version=\"1.0\" encoding=\"%s\"?>\n<DentalContainer>\n", enc);
	T(d, "  <Object type=\"TDM_List_Order\" name=\"OrderList\">\n");
	T(d, "    <Object type=\"TDM_Item_Order\">\n");
	c_prop(d, 6, "OrderID", C_ID, c->ordernum);
	c_prop(d, 6, "Patient_FirstName", C_NAME, c->pg);
	c_prop(d, 6, "Patient_LastName", C_NAME, c->pf);
	c_prop(d, 6, "Patient_RefNo", C_MRN, c->chart);
	c_prop(d, 6, "Customer", C_NAME, cust);
	c_prop(d, 6, "ProcessStatusID", -1, "psScanned");
	c_prop(d, 6, "ScanSource", -1, c->scanner_model);
	T(d, "      <Property name=\"OrderComments\" value=\"Rush &amp; call the office. DOB ");
	CV(d, C_DATE, ESC_XML, "%s", dob);
	T(d, "\"/>\n");
	for (int i = 1, n = rnd_range(r, 1, 3); i <= n; i++) {
		T(d, "      <Object type=\"TDM_Item_ModelElement\">\n");
		T(d, "        <Property name=\"ModelElementIndex\" value=\"%d\"/>\n", i);
		T(d, "        <Property name=\"displayName\" value=\"%s %d %s\"/>\n", PICK(r, c_recon),
		  rnd_range(r, 11, 48), PICK(r, c_materials));
		T(d, "        <Property name=\"ToothNumber\" value=\"%d\"/>\n", rnd_range(r, 11, 48));
		T(d, "      </Object>\n");
	}
	T(d, "    </Object>\n  </Object>\n</DentalContainer>\n");
}

static void gen_3shape_order(struct doc *d, struct rng *r, const struct casedata *c)
{
	c_3shape_order(d, r, c, "utf-16");
}

static void gen_3shape_order_u8(struct doc *d, struct rng *r, const struct casedata *c)
{
	c_3shape_order(d, r, c, "utf-8");
}

static void gen_3shape_3ox(struct doc *d, struct rng *r, const struct casedata *c)
{
	T(d, "<?xml version=\"1.0\" encoding=\"utf-16\"?>\n");
	T(d, "<ThreeShapeOrder xmlns=\"http://schemas.3shape.com/3OX/OrderInterface/2011/01\">\n");
	c_el(d, 2, "ThreeShapeOrderNo", C_ID, c->ordernum);
	T(d, "  <Properties>\n");
	c_prop(d, 4, "Patient_LastName", C_NAME, c->pf);
	c_prop(d, 4, "Patient_FirstName", C_NAME, c->pg);
	T(d, "  </Properties>\n  <ModelElements>\n");
	for (int i = 1, n = rnd_range(r, 1, 3); i <= n; i++) {
		T(d, "    <ModelElement displayName=\"%s %d %s\" ModelElementIndex=\"%d\">\n",
		  PICK(r, c_recon), rnd_range(r, 11, 48), PICK(r, c_materials), i);
		T(d, "      <ModelFileName>model_%d.stl</ModelFileName>\n    </ModelElement>\n", i);
	}
	T(d, "  </ModelElements>\n  <ScanFiles>\n");
	T(d, "    <ScanFile path=\"Scans\\Raw preparation scan.dcm\"/>\n");
	T(d, "    <ScanFile path=\"Scans\\Raw antagonist scan.dcm\"/>\n");
	T(d, "  </ScanFiles>\n</ThreeShapeOrder>\n");
}

/* ---- 3Shape Communicate ---- */

static void c_jdate(struct doc *d, struct rng *r, int ind, const char *key, struct ymd a, int last)
{
	char iso[32];
	c_iso(iso, sizeof iso, a, r);
	T(d, "%*s\"%s\": \"", ind, "", key);
	CV(d, C_DATE, ESC_JSON, "%sZ", iso);
	T(d, "\"%s\n", last ? "" : ",");
}

static void gen_communicate(struct doc *d, struct rng *r, const struct casedata *c)
{
	char dob[16];
	fmt_date(dob, sizeof dob, c->dob, DF_MDY);
	T(d, "{\n  \"Id\": \"%s\",\n  \"ThreeShapeOrderNo\": \"", c->guid);
	CV(d, C_ID, ESC_JSON, "%s", c->ordernum);
	T(d, "\",\n  \"PatientName\": \"");
	CV(d, C_NAME, ESC_JSON, "%s %s", c->pg, c->pf);
	T(d, "\",\n  \"Patient\": {\n    \"FirstName\": \"");
	CV(d, C_NAME, ESC_JSON, "%s", c->pg);
	T(d, "\",\n    \"LastName\": \"");
	CV(d, C_NAME, ESC_JSON, "%s", c->pf);
	T(d, "\",\n    \"ExternalId\": \"");
	CV(d, C_MRN, ESC_JSON, "%s", c->chart);
	T(d, "\",\n    \"PatientRefNo\": \"");
	CV(d, C_MRN, ESC_JSON, "%s", c->mrn);
	T(d, "\"\n  },\n  \"Actors\": [\n");
	T(d, "    {\"Id\": \"a1\", \"Name\": \"");
	CV(d, C_NAME, ESC_JSON, "%s %s", c->dg, c->df);
	T(d, "\", \"Email\": \"");
	CV(d, C_EMAIL, ESC_JSON, "%s", c->pemail);
	T(d, "\", \"Roles\": [\"Dentist\"]},\n");
	T(d, "    {\"Id\": \"a2\", \"Name\": \"");
	CV(d, C_NAME, ESC_JSON, "%s %s", c->rg, c->rf);
	T(d, "\", \"Email\": \"");
	CV(d, C_EMAIL, ESC_JSON, "%s", c->email);
	T(d, "\", \"Roles\": [\"Technician\"]}\n  ],\n");
	c_jdate(d, r, 2, "Created", c->dos, 0);
	c_jdate(d, r, 2, "UpdatedOn", c->received, 0);
	c_jdate(d, r, 2, "ReceivedOn", c->received, 0);
	c_jdate(d, r, 2, "DeliveryDate", c->due, 0);
	T(d, "  \"ScanSource\": \"%s\",\n  \"Application\": \"Dental System 2021\",\n", c->scanner_model);
	T(d, "  \"Comments\": [\n    \"Please check the margin on %s \\u2013 DOB ", c->fdi);
	CV(d, C_DATE, ESC_JSON, "%s", dob);
	T(d, "\"\n  ],\n  \"Scans\": [\n    {\"ScanTimestamp\": \"");
	char iso[32];
	c_iso(iso, sizeof iso, c->scan, r);
	CV(d, C_DATE, ESC_JSON, "%sZ", iso);
	T(d, "\", \"JawType\": \"Upper\"}\n  ],\n");
	T(d, "  \"ModelElements\": [\n    {\"Shade\": \"%s\", \"Material\": \"%s\", \"Restorations\": "
	     "[{\"Unn\": %d, \"ImplantManufacturer\": \"%s\"}]}\n  ]\n}\n",
	  c->shade, PICK(r, c_materials), rnd_range(r, 1, 32), c->implant);
}

static void gen_order_form(struct doc *d, struct rng *r, const struct casedata *c)
{
	char dob[16];
	fmt_date(dob, sizeof dob, c->dob, DF_MDY);
	T(d, "<!DOCTYPE html>\n<html>\n<head>\n<meta charset=\"utf-8\">\n<title>Order form</title>\n");
	T(d, "<style>.tableMain td{padding:2px}</style>\n</head>\n<body>\n<table class=\"tableMain\">\n");
	T(d, "  <tr><td class=\"label\">Patient name</td><td>");
	CV(d, C_NAME, ESC_XML, "%s %s", c->pg, c->pf);
	T(d, "</td><td class=\"label\">Date of birth</td><td>");
	CV(d, C_DATE, ESC_XML, "%s", dob);
	T(d, "</td></tr>\n  <tr><td class=\"label\">Order number</td><td>%s</td>"
	     "<td class=\"label\">Doctor</td><td>Dr. ",
	  "3Shape");
	CV(d, C_NAME, ESC_XML, "%s %s", c->dg, c->df);
	T(d, "</td></tr>\n</table>\n<p>Shade %s &amp; material %s.</p>\n", c->shade,
	  PICK(r, c_materials));
	T(d, "<p title=\"Contact\">Questions: <a href=\"mailto:");
	CV(d, C_EMAIL, ESC_XML, "%s", c->pemail);
	T(d, "\">e-mail the practice</a></p>\n</body>\n</html>\n");
}

#define GEN_CASE_FILES                                                                  \
	{"exocad/case.dentalProject", gen_exo_project, CS_UTF8, 0},                       \
	{"exocad/case.constructionInfo", gen_exo_construction, CS_UTF8, 0},               \
	{"3shape/order.xml", gen_3shape_order, CS_UTF16LE, 0},                            \
	{"3shape/backup/order.xml", gen_3shape_order_u8, CS_UTF8, 0},                     \
	{"3shape/order.3ox", gen_3shape_3ox, CS_UTF16LE, 0},                              \
	{"communicate/case.json", gen_communicate, CS_UTF8, 0},                           \
	{"communicate/PrintableOrderForm.html", gen_order_form, CS_UTF8, 0},
