/* xml.h - XML documents, generic and the dental dialects (exocad .dentalProject and
 * .constructionInfo, 3Shape order XML and .3ox); see xml.c.
 *
 * Threading: phi_format_xml is read-only.  phi_xml_load_properties() fills a
 * process-wide table and must run before any worker starts (main does it with
 * the formats' set-up); after that the table is read-only.
 * Ownership: nothing is exposed.
 */
#ifndef PHI_XML_H
#define PHI_XML_H

#include "format.h"

extern const struct phi_format phi_format_xml;

/* Load a list of property names whose value is an identifier by itself
 * (rules/3shape-properties.txt: "NAME CLASS SEVERITY" per line, '#' comments;
 * severity patient, provider or quasi).  May be called more than once: the lists
 * add up.  A missing file is not an error when optional is set. */
int phi_xml_load_properties(const char *path, int optional, struct phi_error *err);
/* Forget every loaded property name (tests). */
void phi_xml_clear_properties(void);

#endif
