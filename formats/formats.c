/* formats.c - the table of formats.  Adding a format is one line here.
 * Order matters only for ties in detect(): stronger magic first, text last. */
#include "format.h"
#include "dicom.h"
#include "heif.h"
#include "jpeg.h"
#include "hps.h"
#include "html.h"
#include "json.h"
#include "obj.h"
#include "pdf.h"
#include "ply.h"
#include "png.h"
#include "stl.h"
#include "text.h"
#include "tiff.h"
#include "webp.h"
#include "xml.h"

const struct phi_format *const phi_formats[] = {
	&phi_format_dicom,
	&phi_format_jpeg,
	&phi_format_png,
	&phi_format_tiff,
	&phi_format_webp,
	&phi_format_heif,
	&phi_format_pdf,
	&phi_format_hps,
	&phi_format_ply,
	&phi_format_stl,
	&phi_format_obj,
	&phi_format_mtl,
	&phi_format_html,
	&phi_format_xml,
	&phi_format_json,
	&phi_format_text,
	NULL,
};

int phi_formats_init(struct phi_error *err)
{
	return phi_dicom_init(err);
}
