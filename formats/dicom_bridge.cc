// dicom_bridge.cc - DCMTK behind a C header (see dicom_bridge.h).
//
// DCMTK 3.6.x dcmdata: DcmFileFormat reads Part 10 files and bare data sets
// (ERM_autoDetect guesses implicit/explicit VR and byte order), inflates deflated
// data sets, and keeps values longer than the load limit on disk, reading them on
// demand.  Everything here catches every exception: nothing C++ reaches the caller.
//
// Built as its own shared object (phiscan-dcmtk.so) that exports one symbol,
// phi_dcm_module(), the table of the functions below (dicom_bridge_mod.h); phiscan
// loads it on demand (dicom_bridge_load.c) and is not linked with DCMTK.
//
// Threading: init (b_init) once before handles are used, under the loader's
// pthread_once (dictionary load, logger off); each handle is used by one thread.
// Ownership: the handle owns its DcmFileFormat and scratch strings.

#include "dicom_bridge_mod.h"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcdict.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcistrmb.h>
#include <dcmtk/dcmdata/dcmetinf.h>
#include <dcmtk/dcmdata/dcostrmf.h>
#include <dcmtk/dcmdata/dcpixel.h>
#include <dcmtk/dcmdata/dcpixseq.h>
#include <dcmtk/dcmdata/dcpxitem.h>
#include <dcmtk/dcmdata/dcsequen.h>
#include <dcmtk/dcmdata/dcspchrs.h>
#include <dcmtk/dcmdata/dcuid.h>
#include <dcmtk/dcmdata/dcwcache.h>
#include <dcmtk/dcmdata/dcxfer.h>
#include <dcmtk/oflog/oflog.h>

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <string>
#include <vector>

extern "C" {
#include "format.h"
#include "sha256.h"
}

// phiscan's Implementation Class UID (0002,0012): a UUID-derived 2.25 root.
static const char PHISCAN_IMPL_UID[] = "2.25.17399522243035690647548347680912124432";
static const char PHISCAN_IMPL_VERSION[] = "PHISCAN_" PHI_VERSION;

// Short binary values are handed to the C side (private text hidden in OB/UN).
static const Uint32 BINARY_PEEK_MAX = 65536;
// Text values longer than this are refused rather than loaded.
static const Uint32 MAX_TEXT = 16u << 20;
// Deeper nesting than this is refused (sequences nested 1,000 deep).
static const unsigned MAX_DEPTH = 64;

struct phi_dcm_impl {
	DcmFileFormat *ff = nullptr;
	std::string err;
	std::string xfer_uid;
	bool had_meta = false;
	std::string charset_note;
	std::string source_charset;
	std::vector<unsigned char> out; // phi_dcm_save_mem: the written file (reused)
};

static int fail(phi_dcm_impl *h, int code, const std::string &msg)
{
	h->err = msg;
	return code;
}

static int b_init(void)
{
	try {
		OFLog::configure(OFLogger::OFF_LOG_LEVEL);
		if (!dcmDataDict.isDictionaryLoaded())
			return PHI_EFORMAT;
		return 0;
	} catch (...) {
		return PHI_EFORMAT;
	}
}

static const char *b_version(void)
{
	return OFFIS_DCMTK_VERSION_STRING;
}

static struct phi_dcm_impl *b_new(void)
{
	try {
		return new phi_dcm_impl();
	} catch (...) {
		return nullptr;
	}
}

static void b_free(struct phi_dcm_impl *h)
{
	if (!h)
		return;
	delete h->ff;
	delete h;
}

static const char *b_error(const struct phi_dcm_impl *h)
{
	return h->err.c_str();
}

static const char *b_charset_note(const struct phi_dcm_impl *h)
{
	return h->charset_note.c_str();
}

static const char *b_source_charset(const struct phi_dcm_impl *h)
{
	return h->source_charset.c_str();
}

static const char *b_xfer(const struct phi_dcm_impl *h)
{
	return h->xfer_uid.c_str();
}

static int b_had_meta(const struct phi_dcm_impl *h)
{
	return h->had_meta;
}

// A character set DCMTK must convert: anything but the default repertoire and UTF-8.
static bool needs_conversion(DcmDataset *ds)
{
	OFString cs;
	if (ds->findAndGetOFStringArray(DCM_SpecificCharacterSet, cs).bad())
		return false;
	cs = cs.substr(0, cs.find_last_not_of(' ') + 1);
	return !(cs.empty() || cs == "ISO_IR 6" || cs == "ISO_IR 192" || cs == "\\ISO_IR 192");
}

// Nested items may carry their own Specific Character Set (chrSQEncoding.dcm).
static bool any_nested_charset(DcmItem *item, unsigned depth)
{
	if (depth > MAX_DEPTH)
		return false;
	for (unsigned long i = 0; i < item->card(); i++) {
		DcmElement *el = item->getElement(i);
		if (el->ident() != EVR_SQ)
			continue;
		DcmSequenceOfItems *sq = OFstatic_cast(DcmSequenceOfItems *, el);
		for (unsigned long k = 0; k < sq->card(); k++) {
			DcmItem *it = sq->getItem(k);
			if (it->tagExists(DCM_SpecificCharacterSet) || any_nested_charset(it, depth + 1))
				return true;
		}
	}
	return false;
}

// PS3.3 C.12.1.1.2 defined terms (single-byte, ISO 2022 and multi-byte sets).
static bool all_defined_terms(const char *v)
{
	static const char *const terms[] = {
		"ISO_IR 6", "ISO_IR 100", "ISO_IR 101", "ISO_IR 109", "ISO_IR 110", "ISO_IR 144",
		"ISO_IR 127", "ISO_IR 126", "ISO_IR 138", "ISO_IR 148", "ISO_IR 203", "ISO_IR 13",
		"ISO_IR 166", "ISO 2022 IR 6", "ISO 2022 IR 100", "ISO 2022 IR 101", "ISO 2022 IR 109",
		"ISO 2022 IR 110", "ISO 2022 IR 144", "ISO 2022 IR 127", "ISO 2022 IR 126",
		"ISO 2022 IR 138", "ISO 2022 IR 148", "ISO 2022 IR 203", "ISO 2022 IR 13",
		"ISO 2022 IR 166", "ISO 2022 IR 87", "ISO 2022 IR 159", "ISO 2022 IR 149",
		"ISO 2022 IR 58", "ISO_IR 192", "GB18030", "GBK"};
	std::string all(v);
	size_t i = 0;
	while (i <= all.size()) {
		size_t j = all.find('\\', i);
		if (j == std::string::npos)
			j = all.size();
		std::string t = all.substr(i, j - i);
		while (!t.empty() && t.back() == ' ')
			t.pop_back();
		bool ok = t.empty();
		for (const char *term : terms)
			ok = ok || t == term;
		if (!ok)
			return false;
		i = j + 1;
	}
	return true;
}

// Parse from the file at path, or (path NULL) from the size bytes at data: every
// value is then read into memory (a buffer stream has no file to defer to).
static int load(struct phi_dcm_impl *h, const char *path, const void *data, size_t size,
                uint32_t max_load, int to_utf8)
{
	try {
		delete h->ff;
		h->ff = new DcmFileFormat();
		if (h->out.capacity() > (1u << 20)) // the last copy was exceptional: not kept
			std::vector<unsigned char>().swap(h->out);
		OFCondition c;
		if (path) {
			c = h->ff->loadFile(OFFilename(path), EXS_Unknown, EGL_noChange, max_load,
			                    ERM_autoDetect);
		} else {
			// what loadFile does, on a buffer: autodetect Part 10 or a bare data set
			DcmInputBufferStream in;
			in.setBuffer(data, OFstatic_cast(offile_off_t, size));
			in.setEos();
			h->ff->setReadMode(ERM_autoDetect);
			h->ff->transferInit();
			c = h->ff->read(in, EXS_Unknown, EGL_noChange, DCM_MaxReadLength);
			h->ff->transferEnd();
			in.releaseBuffer();
		}
		if (c.bad())
			return fail(h, PHI_EFORMAT, std::string("not DICOM DCMTK can parse: ") + c.text());
		DcmDataset *ds = h->ff->getDataset();
		DcmMetaInfo *mi = h->ff->getMetaInfo();
		h->had_meta = mi && mi->card() > 0;
		if (!ds || ds->card() == 0)
			return fail(h, PHI_EFORMAT, "no DICOM data set elements");
		E_TransferSyntax xs = ds->getOriginalXfer();
		OFString ts;
		if (h->had_meta && mi->findAndGetOFString(DCM_TransferSyntaxUID, ts).good() && !ts.empty())
			h->xfer_uid = ts.c_str();
		else
			h->xfer_uid = DcmXfer(xs).getXferID();
		h->charset_note.clear();
		{
			OFString cs0;
			if (ds->findAndGetOFStringArray(DCM_SpecificCharacterSet, cs0).good())
				h->source_charset = cs0.c_str();
			else
				h->source_charset.clear();
		}
		if (to_utf8 && (needs_conversion(ds) || any_nested_charset(ds, 0))) {
			OFString cs;
			ds->findAndGetOFStringArray(DCM_SpecificCharacterSet, cs);
			if (!all_defined_terms(cs.c_str()))
				return fail(h, PHI_EFORMAT, "Specific Character Set is not a DICOM defined term");
			c = DcmSpecificCharacterSet::isConversionAvailable() ? h->ff->convertToUTF8()
			                                                      : OFCondition(EC_IllegalCall);
			if (c.bad()) {
				// A defined term this DCMTK/iconv cannot convert (ISO 2022 IR 87 with
				// glibc): values stay as stored, ASCII parts are scanned, and the
				// report says so.  Conversion may have stopped half way: reload.
				std::string note = std::string("Specific Character Set ") + cs.c_str() +
				                   " not decoded (" + c.text() + "): text scanned as stored bytes";
				int rc = load(h, path, data, size, max_load, 0);
				if (rc)
					return rc;
				h->charset_note = note;
				return 1;
			}
		}
		return 0;
	} catch (const std::bad_alloc &) {
		return fail(h, PHI_ENOMEM, "out of memory parsing DICOM");
	} catch (...) {
		return fail(h, PHI_EFORMAT, "DICOM parser failed");
	}
}

static int b_load(struct phi_dcm_impl *h, const char *path, uint32_t max_load, int to_utf8)
{
	return load(h, path, nullptr, 0, max_load, to_utf8);
}

static int b_load_mem(struct phi_dcm_impl *h, const void *data, size_t size, int to_utf8)
{
	return load(h, nullptr, data, size, 0xFFFFFFFFu, to_utf8);
}

// "(GGGG,EEEE)" appended: once per element, so no printf.
static void tag_text(std::string &out, const DcmTagKey &k)
{
	static const char hex[] = "0123456789ABCDEF";
	unsigned g = k.getGroup(), e = k.getElement();
	char b[11] = {'(',
	              hex[g >> 12 & 15], hex[g >> 8 & 15], hex[g >> 4 & 15], hex[g & 15],
	              ',',
	              hex[e >> 12 & 15], hex[e >> 8 & 15], hex[e >> 4 & 15], hex[e & 15],
	              ')'};
	out.append(b, sizeof b);
}

struct walker {
	phi_dcm_impl *h;
	int edit;
	phi_dcm_visit_fn fn;
	void *arg;
	std::string value; // one element's value for its visit call (reused: no allocation)
};

static int walk_item(walker &w, DcmItem *item, bool meta, unsigned depth,
                     const std::string &prefix)
{
	if (depth > MAX_DEPTH)
		return fail(w.h, PHI_ELIMIT, "sequences nested deeper than 64 levels");
	for (unsigned long i = 0; i < item->card();) {
		DcmElement *el = item->getElement(i);
		DcmTag tag = el->getTag();
		std::string path;
		path.reserve(prefix.size() + 12);
		path = prefix;
		if (!path.empty())
			path += '/';
		tag_text(path, tag);
		phi_dcm_elem e;
		memset(&e, 0, sizeof e);
		e.group = tag.getGroup();
		e.element = tag.getElement();
		const char *vr = tag.getVR().getVRName();
		e.vr[0] = vr && vr[0] ? vr[0] : '?';
		e.vr[1] = vr && vr[0] && vr[1] ? vr[1] : '?';
		e.path = path.c_str();
		e.depth = depth;
		e.in_meta = meta;
		e.length = el->getLength();
		e.creator = tag.getPrivateCreator();
		const char *kw = tag.getTagName();
		e.keyword = kw && strcmp(kw, DcmTag_ERROR_TagName) ? kw : "";
		std::string &value = w.value;
		value.clear();
		DcmEVR evr = el->ident();
		if (evr == EVR_SQ) {
			e.is_sq = 1;
			e.items = OFstatic_cast(DcmSequenceOfItems *, el)->card();
		} else if (evr == EVR_pixelSQ || tag == DCM_PixelData) {
			// pixel data: never read here
		} else if (el->isaString() && e.length > MAX_TEXT && e.length != DCM_UndefinedLength) {
			char b[96];
			snprintf(b, sizeof b, "a text value of %u bytes at ", e.length);
			return fail(w.h, PHI_ELIMIT, b + path + " is over the 16 MiB limit");
		} else if (el->isaString()) {
			OFString s;
			if (el->getOFStringArray(s, OFFalse).good()) {
				value.assign(s.c_str(), s.length());
				e.is_string = 1;
				e.value = value.data();
				e.len = value.size();
			}
		} else if (e.length > 0 && e.length <= BINARY_PEEK_MAX &&
		           (evr == EVR_OB || evr == EVR_UN || evr == EVR_UNKNOWN || tag.isPrivate())) {
			Uint8 *p = nullptr;
			if (el->getUint8Array(p).good() && p) {
				value.assign(reinterpret_cast<const char *>(p), e.length);
				e.value = value.data();
				e.len = value.size();
			}
		}
		phi_dcm_decision d = {PHI_DCM_KEEP, nullptr};
		int rc = w.fn(w.arg, &e, &d);
		if (rc)
			return rc;
		if (!w.edit || meta)
			d.act = PHI_DCM_KEEP;
		switch (d.act) {
		case PHI_DCM_REMOVE:
			delete item->remove(i);
			continue; // the next element moved to index i
		case PHI_DCM_EMPTY:
			if (evr == EVR_SQ) {
				DcmSequenceOfItems *sq = OFstatic_cast(DcmSequenceOfItems *, el);
				while (sq->card() > 0)
					delete sq->remove(OFstatic_cast(unsigned long, 0));
			} else if (el->isaString()) {
				el->putString("");
			} else {
				el->clear();
			}
			break;
		case PHI_DCM_REPLACE:
			if (el->putString(d.repl ? d.repl : "").bad())
				return fail(w.h, PHI_EFORMAT, "cannot write a replacement value at " + path);
			break;
		case PHI_DCM_KEEP:
			if (evr == EVR_SQ) {
				DcmSequenceOfItems *sq = OFstatic_cast(DcmSequenceOfItems *, el);
				for (unsigned long k = 0; k < sq->card(); k++) {
					std::string ip = path + "[" + std::to_string(k) + "]";
					if ((rc = walk_item(w, sq->getItem(k), meta, depth + 1, ip)))
						return rc;
				}
			}
			break;
		}
		i++;
	}
	return 0;
}

static int b_walk(struct phi_dcm_impl *h, int edit, phi_dcm_visit_fn fn, void *arg)
{
	try {
		if (!h->ff)
			return fail(h, PHI_EUSAGE, "no DICOM file loaded");
		walker w = {h, edit, fn, arg, {}};
		int rc = walk_item(w, h->ff->getMetaInfo(), true, 0, "");
		if (!rc)
			rc = walk_item(w, h->ff->getDataset(), false, 0, "");
		return rc;
	} catch (const std::bad_alloc &) {
		return fail(h, PHI_ENOMEM, "out of memory walking DICOM");
	} catch (...) {
		return fail(h, PHI_EFORMAT, "DICOM walk failed");
	}
}

static int b_get(struct phi_dcm_impl *h, uint16_t group, uint16_t element, char *out,
                 size_t cap)
{
	out[0] = 0;
	try {
		DcmItem *it = group == 2 ? OFstatic_cast(DcmItem *, h->ff->getMetaInfo())
		                         : OFstatic_cast(DcmItem *, h->ff->getDataset());
		OFString v;
		if (it->findAndGetOFStringArray(DcmTagKey(group, element), v).bad())
			return 1;
		snprintf(out, cap, "%s", v.c_str());
		return 0;
	} catch (...) {
		return 1;
	}
}

static int b_has_pixels(struct phi_dcm_impl *h)
{
	try {
		return h->ff->getDataset()->tagExists(DCM_PixelData) ? 1 : 0;
	} catch (...) {
		return 0;
	}
}

static int b_put(struct phi_dcm_impl *h, uint16_t group, uint16_t element, const char *value)
{
	try {
		OFCondition c = h->ff->getDataset()->putAndInsertString(DcmTag(group, element), value);
		if (c.bad()) {
			char b[96];
			snprintf(b, sizeof b, "cannot set (%04X,%04X): %s", group, element, c.text());
			return fail(h, PHI_EFORMAT, b);
		}
		return 0;
	} catch (...) {
		return fail(h, PHI_ENOMEM, "cannot set a DICOM value");
	}
}

static int b_add_method_code(struct phi_dcm_impl *h, const char *code, const char *meaning)
{
	try {
		DcmDataset *ds = h->ff->getDataset();
		DcmSequenceOfItems *sq = nullptr;
		if (ds->findAndGetSequence(DCM_DeidentificationMethodCodeSequence, sq).good() && sq) {
			for (unsigned long k = 0; k < sq->card(); k++) {
				OFString v;
				if (sq->getItem(k)->findAndGetOFString(DCM_CodeValue, v).good() && v == code)
					return 0;
			}
		}
		DcmItem *it = nullptr;
		OFCondition c = ds->findOrCreateSequenceItem(DCM_DeidentificationMethodCodeSequence, it, -2);
		if (c.good())
			c = it->putAndInsertString(DCM_CodeValue, code);
		if (c.good())
			c = it->putAndInsertString(DCM_CodingSchemeDesignator, "DCM");
		if (c.good())
			c = it->putAndInsertString(DCM_CodeMeaning, meaning);
		if (c.bad())
			return fail(h, PHI_EFORMAT, std::string("cannot record the method code: ") + c.text());
		return 0;
	} catch (...) {
		return fail(h, PHI_ENOMEM, "cannot record the method code");
	}
}

// Hash value bytes in pieces: a CBCT volume is never held whole.
static bool hash_value(DcmElement *el, phi_sha256 *st, E_ByteOrder order,
                       DcmFileCache *cache)
{
	Uint32 len = el->getLength();
	if (len == DCM_UndefinedLength)
		return false;
	unsigned char buf[1 << 16];
	for (Uint32 off = 0; off < len;) {
		Uint32 k = len - off < sizeof buf ? len - off : Uint32(sizeof buf);
		if (el->getPartialValue(buf, off, k, cache, order).bad())
			return false;
		phi_sha256_update(st, buf, k);
		off += k;
	}
	return true;
}

static int b_pixel_sha256(struct phi_dcm_impl *h, char hex[65])
{
	hex[0] = 0;
	try {
		DcmDataset *ds = h->ff->getDataset();
		DcmElement *el = nullptr;
		if (ds->findAndGetElement(DCM_PixelData, el).bad() || !el)
			return 1;
		phi_sha256 st;
		if (phi_sha256_init(&st))
			return fail(h, PHI_ENOMEM, "out of memory");
		DcmFileCache cache;
		DcmXfer x(ds->getOriginalXfer());
		bool ok = true;
		// Pixel Data read with a VR DCMTK does not model as pixel data (UN, a bad VR)
		// is not a DcmPixelData: fuzz_dicom found the unchecked cast.
		DcmPixelData *pd = dynamic_cast<DcmPixelData *>(el);
		DcmPixelSequence *seq = nullptr;
		if (el->getLength() == DCM_UndefinedLength || x.isEncapsulated()) {
			if (!pd || pd->getEncapsulatedRepresentation(ds->getOriginalXfer(), nullptr, seq).bad() ||
			    !seq) {
				phi_sha256_abort(&st);
				return fail(h, PHI_EFORMAT, "encapsulated pixel data cannot be read");
			}
			for (unsigned long k = 0; ok && k < seq->card(); k++) {
				DcmPixelItem *it = nullptr;
				if (seq->getItem(it, k).bad() || !it)
					ok = false;
				else
					ok = hash_value(it, &st, EBO_LittleEndian, &cache);
			}
		} else {
			ok = hash_value(el, &st, x.getByteOrder(), &cache);
		}
		if (!ok) {
			phi_sha256_abort(&st);
			return fail(h, PHI_EIO, "pixel data cannot be read for hashing");
		}
		return phi_sha256_final(&st, hex) ? fail(h, PHI_ENOMEM, "out of memory") : 0;
	} catch (...) {
		return fail(h, PHI_EFORMAT, "pixel data cannot be read for hashing");
	}
}

// The written file into h->out: one write of the whole copy afterwards, and the
// copy's checks and hash from memory.
class VecConsumer : public DcmConsumer
{
public:
	explicit VecConsumer(std::vector<unsigned char> &v) : v_(v) {}
	OFBool good() const override { return OFTrue; }
	OFCondition status() const override { return EC_Normal; }
	OFBool isFlushed() const override { return OFTrue; }
	offile_off_t avail() const override { return 2147483647L; } // as DcmFileConsumer
	offile_off_t write(const void *buf, offile_off_t n) override
	{
		const unsigned char *p = OFstatic_cast(const unsigned char *, buf);
		v_.insert(v_.end(), p, p + n);
		return n;
	}
	void flush() override {}

private:
	std::vector<unsigned char> &v_;
};

class VecStream : public DcmOutputStream
{
public:
	explicit VecStream(std::vector<unsigned char> &v) : DcmOutputStream(&c_), c_(v) {}

private:
	VecConsumer c_;
};

// Write to fd (>= 0) or, with fd -1, into h->out.
static int save(struct phi_dcm_impl *h, int fd)
{
	try {
		DcmDataset *ds = h->ff->getDataset();
		E_TransferSyntax xs = ds->getOriginalXfer();
		if (xs == EXS_Unknown || DcmXfer(xs).getXferID() != h->xfer_uid)
			return fail(h, PHI_ENOTSUP, "transfer syntax " + h->xfer_uid +
			                                " is unknown to DCMTK " OFFIS_DCMTK_VERSION_STRING
			                                ": it cannot be written");
		// A fresh meta header and preamble (128 zero bytes: an input's preamble may be
		// a TIFF header pointing into the old bytes, or anything else): DCMTK fills
		// version, SOP class and instance (from the data set) and transfer syntax;
		// then the implementation is phiscan's.
		DcmMetaInfo *mi = h->ff->getMetaInfo();
		*mi = DcmMetaInfo();
		OFCondition c = h->ff->validateMetaInfo(xs, EWM_updateMeta);
		if (c.good())
			c = mi->putAndInsertString(DCM_ImplementationClassUID, PHISCAN_IMPL_UID);
		if (c.good())
			c = mi->putAndInsertString(DCM_ImplementationVersionName, PHISCAN_IMPL_VERSION);
		if (c.good())
			c = mi->putAndInsertString(DCM_SourceApplicationEntityTitle, "PHISCAN");
		if (c.good())
			c = mi->computeGroupLengthAndPadding(EGL_recalcGL, EPD_noChange,
			                                     EXS_LittleEndianExplicit, EET_ExplicitLength);
		if (c.bad())
			return fail(h, PHI_EFORMAT, std::string("cannot build the meta header: ") + c.text());
		if (fd < 0) {
			h->out.clear();
			VecStream out{h->out};
			h->ff->transferInit();
			c = h->ff->write(out, xs, EET_ExplicitLength, nullptr, EGL_recalcGL, EPD_noChange, 0,
			                 0, 0, EWM_dontUpdateMeta);
			h->ff->transferEnd();
			if (c.bad())
				return fail(h, PHI_EIO, std::string("cannot write DICOM: ") + c.text());
			return 0;
		}
		// DCMTK gets a FILE of its own on a duplicate of fd (it closes it).  Not the
		// /proc name: opening that truncates, and ext4 flushes a truncated file on its
		// close (auto_da_alloc), one write-back per file.
		int dfd = dup(fd);
		FILE *fp = dfd >= 0 ? fdopen(dfd, "wb") : nullptr;
		if (!fp) {
			if (dfd >= 0)
				close(dfd);
			return fail(h, PHI_EIO, "cannot open the output");
		}
		{
			DcmOutputFileStream out{fp};
			DcmWriteCache cache;
			if (out.status().bad())
				return fail(h, PHI_EIO, "cannot open the output");
			h->ff->transferInit();
			c = h->ff->write(out, xs, EET_ExplicitLength, &cache, EGL_recalcGL, EPD_noChange, 0, 0,
			                 0, EWM_dontUpdateMeta);
			h->ff->transferEnd();
			out.flush();
			if (c.good() && out.status().bad())
				c = out.status();
		}
		if (c.bad())
			return fail(h, PHI_EIO, std::string("cannot write DICOM: ") + c.text());
		return 0;
	} catch (...) {
		return fail(h, PHI_EIO, "cannot write DICOM");
	}
}

static int b_save(struct phi_dcm_impl *h, int fd)
{
	return save(h, fd);
}

static int b_save_mem(struct phi_dcm_impl *h, const unsigned char **data, size_t *size)
{
	int rc = save(h, -1);
	*data = rc ? nullptr : h->out.data();
	*size = rc ? 0 : h->out.size();
	return rc;
}

// ---- the dictionary probe (tests/test_dicom_dict.c compares dicom_dict.c with it) ----
// (Included here, not at the top, to keep this section's edits in one place.)
#include <dcmtk/dcmdata/dcdicent.h>

static int b_dict_probe(uint16_t g, uint16_t e, const char *creator, char vr[3],
                        const char **name)
{
	static thread_local std::string tag_name;
	try {
		DcmTag tag(DcmTagKey(g, e), creator);
		const char *v = tag.getVR().getVRName();
		snprintf(vr, 3, "%s", v ? v : "");
		const char *n = tag.getTagName();
		tag_name = (n && strcmp(n, DcmTag_ERROR_TagName) != 0) ? n : "";
		*name = tag_name.c_str();
		return tag.error().good() ? 0 : 1;
	} catch (...) {
		vr[0] = '\0';
		*name = "";
		return PHI_EFORMAT;
	}
}

static void dict_entry(const DcmDictEntry *d, int repeating, phi_dcm_dict_fn fn, void *arg)
{
	struct phi_dcm_dict_entry e;
	e.group = d->getGroup();
	e.ugroup = d->getUpperGroup();
	e.element = d->getElement();
	e.uelement = d->getUpperElement();
	e.grestr = static_cast<int>(d->getGroupRangeRestriction());
	e.erestr = static_cast<int>(d->getElementRangeRestriction());
	e.creator = d->getPrivateCreator();
	e.vr = d->getVR().getVRName();
	e.name = d->getTagName() ? d->getTagName() : "";
	fn(arg, repeating, &e);
}

static long b_dict_each(phi_dcm_dict_fn fn, void *arg)
{
	long n = 0;
	bool locked = false;
	try {
		DcmDataDictionary &dict = dcmDataDict.wrlock();
		locked = true;
		for (DcmHashDictIterator it = dict.normalBegin(); it != dict.normalEnd(); ++it, n++)
			dict_entry(*it, 0, fn, arg);
		for (DcmDictEntryListIterator it = dict.repeatingBegin(); it != dict.repeatingEnd();
		     ++it, n++)
			dict_entry(*it, 1, fn, arg);
		dcmDataDict.wrunlock();
		return n;
	} catch (...) {
		if (locked)
			dcmDataDict.wrunlock();
		return PHI_EFORMAT;
	}
}

// ---- the module's one exported symbol (dicom_bridge_mod.h) ----

static const struct phi_dcm_ops ops = {
	PHI_DCM_ABI,         sizeof(struct phi_dcm_ops),
	b_init,              b_version,
	b_new,               b_free,
	b_error,             b_load,
	b_load_mem,          b_charset_note,
	b_source_charset,    b_xfer,
	b_had_meta,          b_walk,
	b_get,               b_has_pixels,
	b_put,               b_add_method_code,
	b_pixel_sha256,      b_save,
	b_save_mem,          b_dict_probe,
	b_dict_each,
};

extern "C" __attribute__((visibility("default"))) const struct phi_dcm_ops *phi_dcm_module(void)
{
	return &ops;
}
