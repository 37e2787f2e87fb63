/* version.c - `phiscan --version`: this build and the libraries it parses with.
 *
 * For each library: the version of the headers it was built with and, where the
 * library can say so, the version running now (a distribution upgrade changes the
 * second without a rebuild; a security advisory names library versions).  DCMTK has
 * no C-callable version query: the running one is read from the loaded
 * libdcmdata's file name (libdcmdata.so.17.3.6.7), found with dl_iterate_phdr once
 * DCMTK's module is loaded (it is loaded here; when it cannot be: "unavailable" and
 * the reason, and --version still succeeds).
 * libjpeg-turbo has no runtime query at all: "-".
 *
 * Threading: main thread.  Ownership: nothing allocated outlives a call.
 */
#include "version.h"

#include "../formats/dicom_bridge.h"
#include "../formats/pdf.h"
#include "../formats/sha256.h"
#include "archive.h"

#include <archive.h>
#include <dcmtk/config/osconfig.h>
#include <expat.h>
#include <hs/hs.h>
#include <jconfig.h>
#include <link.h>
#include <limits.h>
#include <openssl/opensslv.h>
#include <png.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>
#include <zlib.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

/* libyaml's header has no version macro: the Makefile passes pkg-config's. */
#ifndef PHI_YAML_BUILT
#define PHI_YAML_BUILT "-"
#endif

#define STR_(x) #x
#define STR(x) STR_(x)

struct lib_find {
	const char *stem; /* "libdcmdata.so." */
	char version[64];
};

static int find_lib(struct dl_phdr_info *info, size_t size, void *arg)
{
	struct lib_find *f = arg;
	(void)size;
	if (!info->dlpi_name || !strstr(info->dlpi_name, f->stem))
		return 0;
	char *real = realpath(info->dlpi_name, NULL);
	const char *p = real ? strstr(real, f->stem) : NULL;
	if (p) {
		/* "libdcmdata.so.17.3.6.7": the soname number, then the release */
		p += strlen(f->stem);
		const char *dot = strchr(p, '.');
		snprintf(f->version, sizeof f->version, "%s", dot ? dot + 1 : p);
	}
	free(real);
	return p != NULL;
}

static void row(FILE *fp, const char *name, const char *built, const char *running)
{
	fprintf(fp, "  %-14s %-12s %s\n", name, built, running && *running ? running : "-");
}

void phi_versions_print(FILE *fp, const char *version)
{
	char pcre[64] = "";
	char hs[64];
	struct lib_find dcm = {.stem = "libdcmdata.so."};

	fprintf(fp, "phiscan %s\n", version);
	fprintf(fp, "  %-14s %-12s %s\n", "library", "built with", "running");
	const char *dcm_why = phi_dcm_unavailable(); /* loads DCMTK (dicom_bridge_load.c) */
	dl_iterate_phdr(find_lib, &dcm);
	row(fp, "DCMTK", PACKAGE_VERSION, dcm_why ? "unavailable" : dcm.version);
	if (dcm_why)
		fprintf(fp, "  %-14s %s\n", "", dcm_why);
	const char *pdf_built = "-", *pdf_run = phi_pdf_version(&pdf_built); /* loads Poppler */
	row(fp, "Poppler", pdf_built, pdf_run ? pdf_run : "unavailable");
	if (!pdf_run)
		fprintf(fp, "  %-14s %s\n", "", phi_pdf_unavailable());
	pcre2_config(PCRE2_CONFIG_VERSION, pcre);
	char *sp = strchr(pcre, ' '); /* "10.42 2022-12-11" */
	if (sp)
		*sp = 0;
	row(fp, "PCRE2", STR(PCRE2_MAJOR) "." STR(PCRE2_MINOR), pcre);
	row(fp, "libpng", PNG_LIBPNG_VER_STRING, png_get_libpng_ver(NULL));
	row(fp, "libjpeg-turbo", STR(LIBJPEG_TURBO_VERSION), NULL);
	snprintf(hs, sizeof hs, "%s", hs_version());
	sp = strchr(hs, ' '); /* "5.4.9 2023-..." */
	if (sp)
		*sp = 0;
	row(fp, "Vectorscan", STR(HS_MAJOR) "." STR(HS_MINOR) "." STR(HS_PATCH), hs);
	char arch[240];
	/* libarchive is loaded on first use (archive.c), here to ask its version */
	const char *why = NULL, *lv = phi_archive_version(&why); /* "libarchive 3.6.2" */
	snprintf(arch, sizeof arch, "%s", lv ? lv : "not loadable: ");
	if (!lv && why)
		snprintf(arch + strlen(arch), sizeof arch - strlen(arch), "%s", why);
	const char *av = lv ? strchr(arch, ' ') : NULL;
	row(fp, "libarchive", ARCHIVE_VERSION_ONLY_STRING, av ? av + 1 : arch);
	char ex[32];
	XML_Expat_Version ev = XML_ExpatVersionInfo();
	snprintf(ex, sizeof ex, "%d.%d.%d", ev.major, ev.minor, ev.micro);
	row(fp, "expat",
	    STR(XML_MAJOR_VERSION) "." STR(XML_MINOR_VERSION) "." STR(XML_MICRO_VERSION), ex);
	row(fp, "libyaml", PHI_YAML_BUILT, yaml_get_version_string());
	row(fp, "zlib", ZLIB_VERSION, zlibVersion());
	row(fp, "libsodium", SODIUM_VERSION_STRING, sodium_version_string());
	char ossl[64];
	/* libcrypto is loaded on first use (sha256.c), here to ask its version */
	const char *ov = phi_sha256_openssl_version();
	snprintf(ossl, sizeof ossl, "%s", ov ? ov : "not loadable");
	row(fp, "OpenSSL", OPENSSL_VERSION_STR, ossl);
}
