/* xmp.h - the XMP field walker: every text value of an XMP packet (element text
 * and attribute values) becomes a field; properties that identify by what they
 * are (dc:creator, Iptc4xmpExt:PersonInImage, face-region names, the XMP-DICOM
 * PatientName/PatientID/PatientDOB ...) become structured values.
 *
 * Specs: XMP Specification Part 1 (2012) 7 (RDF serialisation), Part 3 1.1.3
 * (JPEG APP1 and Extended XMP); IPTC Photo Metadata Standard 2023.1; MWG Guidelines
 * 2.0 5.9 (regions).
 *
 * Threading: reentrant (one expat parser per call).  Ownership: p is borrowed.
 */
#ifndef PHI_XMP_H
#define PHI_XMP_H

#include <stddef.h>
#include <stdint.h>

#include "format.h"

/* Scan one XMP packet p[0..n) whose first byte lies at file offset `offset`
 * (PHI_NO_OFFSET for reassembled or decoded packets).  where_prefix names the
 * container ("XMP", "PNG iTXt XMP").  A packet that is not well-formed XML, or
 * that declares entities, is scanned as opaque text instead: never an error.
 * Returns 0 or a sink/allocation error. */
int phi_xmp_scan(struct phi_fctx *ctx, const unsigned char *p, size_t n, uint64_t offset,
                 const char *where_prefix);

/* tiff:Orientation of a packet (attribute or element form), 1..8, or 0 when absent:
 * used to keep the orientation of a photo whose Exif has none. */
int phi_xmp_orientation(const unsigned char *p, size_t n);

#endif
