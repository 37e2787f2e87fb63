/* test_format.c - the format table: detection picks the right handler, and files
 * no handler claims get a label that says what they look like (for the summary). */
#include <criterion/criterion.h>

#include <string.h>

#include "../formats/format.h"

Test(format, text_is_detected_and_binary_is_not)
{
	const unsigned char txt[] = "Patient: see attached\n";
	const unsigned char bin[] = {0x00, 0x01, 0x02, 0xff, 0x00};
	const struct phi_format *f = phi_format_detect(txt, sizeof txt - 1, "rx.txt");
	cr_assert_not_null(f);
	cr_assert_str_eq(f->name, "text");
	cr_assert_null(phi_format_detect(bin, sizeof bin, "rx.txt"), "binary junk with a text name");
}

Test(format, unclaimed_files_are_labelled_by_their_magic_bytes)
{
	unsigned char dicom[132] = {0};
	memcpy(dicom + 128, "DICM", 4);
	const unsigned char jpeg[] = {0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10};
	const unsigned char png[] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
	const unsigned char tiff[] = {'I', 'I', '*', 0};
	const unsigned char zip[] = {'P', 'K', 3, 4};
	const unsigned char junk[] = {0, 1, 2, 3, 4};
	cr_assert_str_eq(phi_format_guess(dicom, sizeof dicom, "x"), "dicom");
	cr_assert_str_eq(phi_format_guess(jpeg, sizeof jpeg, "x"), "jpeg");
	cr_assert_str_eq(phi_format_guess(png, sizeof png, "x"), "png");
	cr_assert_str_eq(phi_format_guess(tiff, sizeof tiff, "x"), "tiff");
	cr_assert_str_eq(phi_format_guess(zip, sizeof zip, "case.3oxz"), "zip");
	cr_assert_str_eq(phi_format_guess(junk, sizeof junk, "scan.STL"), "stl");
	cr_assert_str_eq(phi_format_guess(junk, sizeof junk, "x.bin"), "unknown");
	cr_assert_str_eq(phi_format_guess(dicom, 100, NULL), "unknown", "short head: no DICM");
}
