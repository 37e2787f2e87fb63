/* test_dicom_dict.c - phiscan's DICOM data dictionary (formats/dicom_dict.c) is
 * DCMTK's: the same entries, and the same answer for any tag.
 *
 * Two proofs against the DCMTK that phiscan links, through the bridge:
 *  - the tables: every entry DCMTK loaded (phi_dcm_dict_each) is in ours with the
 *    same VR and keyword, the counts are equal, and the ranges come in the same
 *    order with the same bounds, restrictions and creators;
 *  - the lookup: for every exact entry, several tags inside and just outside every
 *    range, every private entry with its creator (in its own block and others, and
 *    with the creator padded with a space), and a few thousand pseudo-random tags
 *    (fixed seed), phi_dicom_dict_find gives what DcmTag(DcmTagKey(g, e), creator)
 *    gives (phi_dcm_dict_probe).
 * DCMDICTPATH is unset first: the table is generated from the default dictionaries
 * (dicom.dic, private.dic), which DCMTK then loads.
 */
#include <criterion/criterion.h>
#include <criterion/logging.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../formats/dicom_bridge.h"
#include "../formats/dicom_dict.h"

static void dict_setup(void)
{
	unsetenv("DCMDICTPATH");
	cr_assert_eq(phi_dcm_init(), 0, "DCMTK's dictionary did not load");
}

TestSuite(dicom_dict, .init = dict_setup, .timeout = 300);

struct tally {
	long checked, mismatches;
};

/* Compare one lookup with DCMTK's; log the first mismatches, count all. */
static void same(struct tally *t, uint16_t g, uint16_t e, const char *creator)
{
	const char *vr, *kw, *name;
	char dvr[3];
	int rc = phi_dicom_dict_find(g, e, creator, &vr, &kw);
	int drc = phi_dcm_dict_probe(g, e, creator, dvr, &name);
	cr_assert(drc == 0 || drc == 1, "the DCMTK probe failed on (%04X,%04X)", g, e);
	t->checked++;
	if ((rc == 0) == (drc == 0) && strcmp(vr, dvr) == 0 && strcmp(kw, name) == 0)
		return;
	if (++t->mismatches <= 20)
		cr_log_error("(%04X,%04X) creator %s%s%s: phiscan %d %s %s, DCMTK %d %s %s", g, e,
		             creator ? "\"" : "", creator ? creator : "NULL", creator ? "\"" : "", rc,
		             vr, kw, drc, dvr, name);
}

static void assert_all_same(const struct tally *t, long at_least)
{
	cr_assert_geq(t->checked, at_least, "only %ld lookups compared", t->checked);
	cr_assert_eq(t->mismatches, 0, "%ld of %ld lookups differ from DCMTK", t->mismatches,
	             t->checked);
}

/* ---- the tables ---- */

struct walk {
	long exact, pub_ranges, priv_ranges, bad;
	size_t npub_ranges; /* phiscan's: its private ranges follow */
};

static void log_bad(struct walk *w, const char *what, const struct phi_dcm_dict_entry *d)
{
	if (++w->bad <= 20)
		cr_log_error("DCMTK's (%04X-%04X,%04X-%04X) %s creator %s: %s", d->group, d->ugroup,
		             d->element, d->uelement, d->name, d->creator ? d->creator : "NULL", what);
}

/* DCMTK keeps one list of ranges; phiscan two (public, private), each in the order
 * of DCMTK's list filtered to its kind.  A lookup never matches both kinds, so the
 * first match is the same. */
static void check_dcmtk_entry(void *arg, int repeating, const struct phi_dcm_dict_entry *d)
{
	struct walk *w = arg;
	if (!repeating) {
		const char *vr, *kw;
		w->exact++;
		if (phi_dicom_dict_find(d->group, d->element, d->creator, &vr, &kw) != 0)
			log_bad(w, "not in phiscan's table", d);
		else if (strcmp(vr, d->vr) || strcmp(kw, d->name))
			log_bad(w, "another VR or keyword in phiscan's table", d);
		return;
	}
	struct phi_dicom_dict_entry r;
	size_t i = d->creator ? w->npub_ranges + (size_t)w->priv_ranges++ : (size_t)w->pub_ranges++;
	if (phi_dicom_dict_range(i, &r) != 0 || (d->creator && !r.creator) ||
	    (!d->creator && i >= w->npub_ranges)) {
		log_bad(w, "more ranges of its kind than phiscan's table", d);
		return;
	}
	int same_creator = (!r.creator && !d->creator) ||
	                   (r.creator && d->creator && strcmp(r.creator, d->creator) == 0);
	if (r.group != d->group || r.ugroup != d->ugroup || r.element != d->element ||
	    r.uelement != d->uelement || r.grestr != d->grestr || r.erestr != d->erestr ||
	    !same_creator || strcmp(r.vr, d->vr) || strcmp(r.keyword, d->name))
		log_bad(w, "not the range at the same place in phiscan's list", d);
}

Test(dicom_dict, holds_exactly_the_entries_dcmtk_loaded_with_ranges_in_its_order)
{
	struct walk w = {0};
	size_t pub, priv, pub_ranges, priv_ranges;
	phi_dicom_dict_counts(&pub, &priv, &pub_ranges, &priv_ranges);
	w.npub_ranges = pub_ranges;
	long n = phi_dcm_dict_each(check_dcmtk_entry, &w);
	cr_assert_eq(n, w.exact + w.pub_ranges + w.priv_ranges, "the DCMTK walk failed");
	cr_assert_eq(w.bad, 0, "%ld of DCMTK's entries differ from phiscan's", w.bad);
	cr_assert_eq(w.exact, (long)(pub + priv), "DCMTK %ld exact entries, phiscan %zu", w.exact,
	             pub + priv);
	cr_assert_eq(w.pub_ranges, (long)pub_ranges, "DCMTK %ld public ranges, phiscan %zu",
	             w.pub_ranges, pub_ranges);
	cr_assert_eq(w.priv_ranges, (long)priv_ranges, "DCMTK %ld private ranges, phiscan %zu",
	             w.priv_ranges, priv_ranges);
	cr_assert_gt(pub, 4000);
	cr_assert_gt(priv, 2000);
}

/* ---- the lookup ---- */

Test(dicom_dict, gives_what_dcmtk_gives_for_every_public_entry)
{
	struct tally t = {0};
	struct phi_dicom_dict_entry d;
	for (size_t i = 0; phi_dicom_dict_public(i, &d) == 0; i++) {
		same(&t, d.group, d.element, NULL);
		same(&t, d.group, d.element, "ACME"); /* a creator: public entries do not match */
	}
	assert_all_same(&t, 8000);
}

Test(dicom_dict, gives_what_dcmtk_gives_for_every_private_entry_with_its_creator_padded_or_not)
{
	struct tally t = {0};
	struct phi_dicom_dict_entry d;
	char padded[80];
	for (size_t i = 0; phi_dicom_dict_private(i, &d) == 0; i++) {
		same(&t, d.group, d.element, d.creator);
		same(&t, d.group, d.element, NULL);
		snprintf(padded, sizeof padded, "%s ", d.creator);
		same(&t, d.group, d.element, padded);
		if (d.element <= 0xFF) { /* the element in blocks 10, 4F and FF */
			same(&t, d.group, (uint16_t)(0x1000 | d.element), d.creator);
			same(&t, d.group, (uint16_t)(0x4F00 | d.element), d.creator);
			same(&t, d.group, (uint16_t)(0xFF00 | d.element), d.creator);
		}
	}
	assert_all_same(&t, 8000);
}

/* Both ends, the middle, their neighbours, and one step outside each end. */
static size_t probe_points(uint16_t lo, uint16_t hi, uint16_t out[8])
{
	size_t n = 0;
	uint16_t mid = (uint16_t)(lo + (hi - lo) / 2);
	out[n++] = lo;
	out[n++] = hi;
	out[n++] = mid;
	out[n++] = (uint16_t)(mid + 1);
	if (lo < hi) {
		out[n++] = (uint16_t)(lo + 1);
		out[n++] = (uint16_t)(hi - 1);
	}
	if (lo > 0)
		out[n++] = (uint16_t)(lo - 1);
	if (hi < 0xFFFF)
		out[n++] = (uint16_t)(hi + 1);
	return n;
}

Test(dicom_dict, gives_what_dcmtk_gives_inside_and_around_every_range)
{
	struct tally t = {0};
	struct phi_dicom_dict_entry d;
	size_t nr = 0;
	for (size_t i = 0; phi_dicom_dict_range(i, &d) == 0; i++, nr++) {
		uint16_t gs[8], es[8];
		size_t ng = probe_points(d.group, d.ugroup, gs);
		size_t ne = probe_points(d.element, d.uelement, es);
		for (size_t a = 0; a < ng; a++)
			for (size_t b = 0; b < ne; b++) {
				same(&t, gs[a], es[b], d.creator);
				if (d.creator) /* and in another block, and without the creator */
					same(&t, gs[a], (uint16_t)(0x1000 | es[b]), d.creator);
				same(&t, gs[a], es[b], NULL);
			}
	}
	cr_assert_gt(nr, 100);
	assert_all_same(&t, 5000);
}

static uint64_t rng = 0x9E3779B97F4A7C15u;

static uint32_t next(void) /* xorshift64*: a fixed sequence */
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return (uint32_t)((rng * 0x2545F4914F6CDD1Du) >> 32);
}

Test(dicom_dict, gives_what_dcmtk_gives_for_thousands_of_pseudo_random_tags)
{
	struct tally t = {0};
	size_t pub, priv, pub_ranges, priv_ranges;
	phi_dicom_dict_counts(&pub, &priv, &pub_ranges, &priv_ranges);
	struct phi_dicom_dict_entry d;
	for (int i = 0; i < 6000; i++) {
		uint32_t r = next();
		uint16_t g = (uint16_t)(r >> 16), e = (uint16_t)r;
		uint16_t odd = (uint16_t)(g | 1);
		switch (i % 8) {
		case 0: /* any tag */
			same(&t, g, e, NULL);
			break;
		case 1: /* a public group's element */
			phi_dicom_dict_public(next() % pub, &d);
			same(&t, d.group, e, NULL);
			break;
		case 2: /* a private tag of a known creator, any element of its group */
			phi_dicom_dict_private(next() % priv, &d);
			same(&t, d.group, e, d.creator);
			same(&t, d.group, (uint16_t)((e & 0xFF00) | (d.element & 0xFF)), d.creator);
			break;
		case 3: /* a private tag of an unknown creator */
			same(&t, odd, (uint16_t)(0x1000 | e), "PHISCAN TEST CREATOR");
			break;
		case 4: /* a creator element, with and without a creator */
			same(&t, odd, (uint16_t)(e & 0xFF), NULL);
			phi_dicom_dict_private(next() % priv, &d);
			same(&t, d.group, (uint16_t)(e & 0xFF), d.creator);
			break;
		case 5: /* a group length */
			same(&t, g, 0x0000, NULL);
			break;
		case 6: /* overlay and curve groups 60xx, 50xx, and their odd neighbours */
			same(&t, (uint16_t)(0x6000 | (g & 0xFF)), (uint16_t)(e & 0x30FF), NULL);
			same(&t, (uint16_t)(0x5000 | (g & 0xFF)), (uint16_t)(e & 0x30FF), NULL);
			break;
		default: /* a known private creator in any odd group */
			phi_dicom_dict_private(next() % priv, &d);
			same(&t, odd, e, d.creator);
			break;
		}
	}
	assert_all_same(&t, 7000);
}

Test(dicom_dict, names_public_tags_without_dcmtk)
{
	const char *vr, *kw;
	cr_assert_eq(phi_dicom_dict_find(0x0010, 0x0010, NULL, &vr, &kw), 0);
	cr_assert_str_eq(vr, "PN");
	cr_assert_str_eq(kw, "PatientName");
	cr_assert_eq(phi_dicom_dict_find(0x6002, 0x3000, NULL, &vr, &kw), 0);
	cr_assert_str_eq(vr, "ox");
	cr_assert_str_eq(kw, "OverlayData");
	cr_assert_eq(phi_dicom_dict_find(0x0029, 0x0011, NULL, &vr, &kw), 0);
	cr_assert_str_eq(vr, "LO");
	cr_assert_str_eq(kw, "PrivateCreator");
	cr_assert_eq(phi_dicom_dict_find(0x0029, 0x0000, NULL, &vr, &kw), 0);
	cr_assert_str_eq(kw, "PrivateGroupLength");
	cr_assert_eq(phi_dicom_dict_find(0x0028, 0x0000, NULL, &vr, &kw), 0);
	cr_assert_str_eq(kw, "GenericGroupLength");
}

Test(dicom_dict, gives_an_unknown_tag_what_dcmtk_gives_it)
{
	static const struct {
		uint16_t g, e;
		const char *creator;
	} unknown[] = {
		{0x0029, 0x1010, "PHISCAN TEST CREATOR"}, /* unknown creator */
		{0x0029, 0x1010, ""},                     /* empty creator matches nothing */
		{0x0029, 0x1010, NULL},                   /* private, no creator */
		{0x0020, 0x3101, NULL},                   /* (0020,3100-31FF) is even only */
		{0x0010, 0x0011, NULL},                   /* a gap in a public group */
	};
	for (size_t i = 0; i < sizeof unknown / sizeof unknown[0]; i++) {
		const char *vr = NULL, *kw = NULL, *name;
		char dvr[3];
		cr_assert_eq(phi_dicom_dict_find(unknown[i].g, unknown[i].e, unknown[i].creator, &vr, &kw),
		             -1);
		cr_assert_eq(phi_dcm_dict_probe(unknown[i].g, unknown[i].e, unknown[i].creator, dvr,
		                                &name),
		             1, "DCMTK knows (%04X,%04X)", unknown[i].g, unknown[i].e);
		cr_assert_str_eq(vr, dvr);
		cr_assert_str_eq(vr, "??");
		cr_assert_str_eq(kw, name);
		cr_assert_str_eq(kw, "");
	}
}
