/* formats.c - the table of formats.  Adding a format is one line here.
 * Order matters only for ties in detect(): stronger magic first, text last. */
#include "format.h"
#include "dicom.h"
#include "obj.h"
#include "ply.h"
#include "stl.h"
#include "text.h"

const struct phi_format *const phi_formats[] = {
	&phi_format_dicom,
	&phi_format_ply,
	&phi_format_stl,
	&phi_format_obj,
	&phi_format_mtl,
	&phi_format_text,
	NULL,
};

int phi_formats_init(struct phi_error *err)
{
	return phi_dicom_init(err);
}
