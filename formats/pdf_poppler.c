/* pdf_poppler.c - the PDF module (pdf_mod.h) over Poppler's GLib interface.
 *
 * What is read, in this order: the document information entries Poppler exposes
 * (Title, Author, Subject, Keywords, Creator, Producer), the XMP metadata packet,
 * then page by page its text (poppler_page_get_text: fonts and encodings decoded),
 * the contents, label and subject of every annotation, and every form field as
 * "name: value" (text, choice: the selected items).  A document that needs a
 * password, or that embeds files (in its name tree or as a page's file attachment
 * annotation: their bytes would be unread), is refused: the caller reports it
 * unscanned rather than clean.
 *
 * Poppler's own messages ("Syntax Error: ...") go to GLib's log under the domain
 * "Poppler"; init drops them, so a damaged file prints nothing from here: the
 * caller gives its one line.
 *
 * Threading: init (once, before any extract) makes Poppler's global parameters by
 * opening a minimal document, which it keeps open; after it every extract has its
 * own document.  Ownership: everything extract allocates is freed before it
 * returns; emit's text is borrowed for the call.
 */
#include "pdf_mod.h"

#include <glib.h>
#include <poppler.h>
#include <stdio.h>
#include <string.h>

static void quiet(const gchar *domain, GLogLevelFlags level, const gchar *msg, gpointer data)
{
	(void)domain, (void)level, (void)msg, (void)data;
}

/* One page, one object: enough for Poppler to set up what it shares. */
static const char minimal[] = "%PDF-1.4\n"
                              "1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n"
                              "2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\n"
                              "trailer << /Root 1 0 R >>\n%%EOF\n";

static char built[32]; /* written once, by pdf_init */

static PopplerDocument *pinned; /* never freed: see pdf_init */

static void pdf_init(void)
{
	snprintf(built, sizeof built, "%d.%d.%d", POPPLER_MAJOR_VERSION, POPPLER_MINOR_VERSION,
	         POPPLER_MICRO_VERSION);
	g_log_set_handler("Poppler", G_LOG_LEVEL_MASK | G_LOG_FLAG_FATAL | G_LOG_FLAG_RECURSION,
	                  quiet, NULL);
	/* Kept for the life of the process: each PopplerDocument holds a reference to
	 * Poppler's global parameters, which are built when the first document opens
	 * and torn down when the last one closes; without one held, every PDF rebuilt
	 * them (70 % of a one-page PDF's time, perf) */
	GBytes *b = g_bytes_new_static(minimal, sizeof minimal - 1);
	pinned = poppler_document_new_from_bytes(b, NULL, NULL);
	g_bytes_unref(b);
}

static const char *pdf_version(void)
{
	return poppler_get_version();
}

static const char *pdf_built(void)
{
	return built;
}

/* emit s (owned, freed here) when it holds anything */
static int put(phi_pdf_emit emit, void *arg, enum phi_pdf_part part, const char *where,
               gchar *s)
{
	int rc = s && *s ? emit(arg, part, where, s, strlen(s)) : 0;
	g_free(s);
	return rc;
}

static int info(PopplerDocument *d, phi_pdf_emit emit, void *arg)
{
	static const struct {
		const char *where;
		gchar *(*get)(PopplerDocument *);
	} keys[] = {
	    {"Info/Title", poppler_document_get_title},
	    {"Info/Author", poppler_document_get_author},
	    {"Info/Subject", poppler_document_get_subject},
	    {"Info/Keywords", poppler_document_get_keywords},
	    {"Info/Creator", poppler_document_get_creator},
	    {"Info/Producer", poppler_document_get_producer},
	};
	int rc = 0;
	for (size_t i = 0; !rc && i < sizeof keys / sizeof keys[0]; i++)
		rc = put(emit, arg, PHI_PDF_INFO, keys[i].where, keys[i].get(d));
	if (!rc)
		rc = put(emit, arg, PHI_PDF_XMP, "XMP", poppler_document_get_metadata(d));
	return rc;
}

static int annots(PopplerPage *page, int pno, phi_pdf_emit emit, void *arg, char *err,
                  size_t cap)
{
	char where[64];
	int rc = 0, k = 0;
	GList *list = poppler_page_get_annot_mapping(page);
	for (GList *l = list; !rc && l; l = l->next) {
		PopplerAnnot *a = ((PopplerAnnotMapping *)l->data)->annot;
		k++;
		/* a file attached to the page (not in the document's name tree) */
		if (POPPLER_IS_ANNOT_FILE_ATTACHMENT(a)) {
			snprintf(err, cap, "1");
			rc = PHI_PDF_EEMBEDDED;
			break;
		}
		snprintf(where, sizeof where, "page %d annotation %d", pno, k);
		rc = put(emit, arg, PHI_PDF_ANNOT, where, poppler_annot_get_contents(a));
		if (!rc && POPPLER_IS_ANNOT_MARKUP(a)) {
			snprintf(where, sizeof where, "page %d annotation %d label", pno, k);
			rc = put(emit, arg, PHI_PDF_ANNOT, where,
			         poppler_annot_markup_get_label(POPPLER_ANNOT_MARKUP(a)));
			snprintf(where, sizeof where, "page %d annotation %d subject", pno, k);
			if (!rc)
				rc = put(emit, arg, PHI_PDF_ANNOT, where,
				         poppler_annot_markup_get_subject(POPPLER_ANNOT_MARKUP(a)));
		}
	}
	poppler_page_free_annot_mapping(list);
	return rc;
}

/* A field's value as text: a text field's text, a choice field's selected items
 * (its edit text too, for an editable combo box); NULL for buttons and signatures. */
static gchar *field_value(PopplerFormField *f)
{
	switch (poppler_form_field_get_field_type(f)) {
	case POPPLER_FORM_FIELD_TEXT:
		return poppler_form_field_text_get_text(f);
	case POPPLER_FORM_FIELD_CHOICE: {
		GString *s = g_string_new(NULL);
		gchar *t = poppler_form_field_choice_get_text(f);
		if (t && *t)
			g_string_append(s, t);
		g_free(t);
		int n = poppler_form_field_choice_get_n_items(f);
		for (int i = 0; i < n; i++)
			if (poppler_form_field_choice_is_item_selected(f, i)) {
				gchar *it = poppler_form_field_choice_get_item(f, i);
				if (it && *it)
					g_string_append_printf(s, "%s%s", s->len ? "; " : "", it);
				g_free(it);
			}
		return g_string_free(s, FALSE);
	}
	default:
		return NULL;
	}
}

static int fields(PopplerPage *page, int pno, phi_pdf_emit emit, void *arg)
{
	char where[64];
	int rc = 0, k = 0;
	GList *list = poppler_page_get_form_field_mapping(page);
	for (GList *l = list; !rc && l; l = l->next) {
		PopplerFormField *f = ((PopplerFormFieldMapping *)l->data)->field;
		k++;
		gchar *v = field_value(f);
		if (!v || !*v) {
			g_free(v);
			continue;
		}
		/* the label a reader shows (tooltip), else the field's name: cue words for
		 * the rules ("Patient name: ...") */
		gchar *name = poppler_form_field_get_alternate_ui_name(f);
		if (!name || !*name) {
			g_free(name);
			name = poppler_form_field_get_partial_name(f);
		}
		snprintf(where, sizeof where, "page %d form field %d", pno, k);
		rc = put(emit, arg, PHI_PDF_FIELD, where,
		         g_strdup_printf("%s: %s", name && *name ? name : "field", v));
		g_free(name);
		g_free(v);
	}
	poppler_page_free_form_field_mapping(list);
	return rc;
}

static int pdf_extract(const unsigned char *p, size_t n, phi_pdf_emit emit, void *arg, char *err,
                       size_t cap)
{
	GError *ge = NULL;
	GBytes *b = g_bytes_new_static(p, n);
	PopplerDocument *d = poppler_document_new_from_bytes(b, NULL, &ge);
	int rc = 0;
	if (!d) {
		if (ge && ge->domain == POPPLER_ERROR && ge->code == POPPLER_ERROR_ENCRYPTED) {
			rc = PHI_PDF_EENCRYPTED;
		} else {
			/* Poppler's messages name what failed, never the document's text */
			snprintf(err, cap, "%s", ge && ge->message ? ge->message : "Poppler cannot open it");
			rc = PHI_PDF_EPARSE;
		}
		g_clear_error(&ge);
		g_bytes_unref(b);
		return rc;
	}
	if (poppler_document_has_attachments(d)) {
		snprintf(err, cap, "%u", poppler_document_get_n_attachments(d));
		rc = PHI_PDF_EEMBEDDED;
	}
	if (!rc)
		rc = info(d, emit, arg);
	int pages = poppler_document_get_n_pages(d);
	char where[32];
	for (int i = 0; !rc && i < pages; i++) {
		PopplerPage *page = poppler_document_get_page(d, i);
		if (!page) { /* unread text is not clean text */
			snprintf(err, cap, "page %d cannot be read", i + 1);
			rc = PHI_PDF_EPARSE;
			break;
		}
		snprintf(where, sizeof where, "page %d", i + 1);
		rc = put(emit, arg, PHI_PDF_PAGE, where, poppler_page_get_text(page));
		if (!rc)
			rc = annots(page, i + 1, emit, arg, err, cap);
		if (!rc)
			rc = fields(page, i + 1, emit, arg);
		g_object_unref(page);
	}
	g_object_unref(d);
	g_bytes_unref(b);
	return rc;
}

static const struct phi_pdf_ops ops = {
    .abi = PHI_PDF_ABI,
    .size = sizeof(struct phi_pdf_ops),
    .built = pdf_built,
    .version = pdf_version,
    .init = pdf_init,
    .extract = pdf_extract,
};

__attribute__((visibility("default"))) const struct phi_pdf_ops *phi_pdf_module(void)
{
	return &ops;
}
