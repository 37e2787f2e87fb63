/* html.h - HTML documents (3Shape PrintableOrderForm.html, Rx forms, any page);
 * see html.c.
 *
 * Threading: phi_format_html is read-only.  Ownership: nothing is exposed.
 */
#ifndef PHI_HTML_H
#define PHI_HTML_H

#include "format.h"

extern const struct phi_format phi_format_html;

#endif
