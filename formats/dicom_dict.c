/* dicom_dict.c - the VR and keyword of a DICOM tag from DCMTK's dictionary, compiled
 * in (see dicom_dict.h).
 *
 * DCMTK keeps a hash table of exact entries, keyed by (tag, private creator), and a
 * list of ranges such as (6000-60FF,3000) or (0009-o-FFFF,0010-u-00FF) (dcdict.h,
 * dcdicent.h; range forms in dicom.dic's header: "gggg-gggg" even values,
 * "-o-" odd, "-e-" even, "-u-" all).  DcmDataDictionary::findEntry(key, creator)
 * answers with the exact entry (for a creator, (group, element) and then
 * (group, element & 0xFF), DcmHashDict::get), else the first range in list order
 * whose restrictions, creator and bounds hold (DcmDictEntry::contains; with a
 * creator the element's low byte may also fall in the element range).
 * dcm_dict.py builds the list in DCMTK's order, split in two (public ranges match
 * only without a creator, private ones only with theirs, so each half keeps DCMTK's
 * first match).  Here the exact entries are two tables sorted by (group, creator
 * index, element) and searched by bisection; a creator (PS3.5 7.8.1) is first found
 * among the 132 the dictionary names, so an unknown one costs one bisection.
 * No allocation, no set-up.
 *
 * Threading: read-only data.  Ownership: every string returned is static.
 */
#include "dicom_dict.h"

#include <string.h>

struct phi_dd_exact {
	uint16_t group, element;
	uint32_t kw;      /* offset in phi_dd_str */
	uint16_t creator; /* private: index in phi_dd_creators (public: 0) */
	uint8_t vr;       /* index in phi_dd_vr */
};

enum { PHI_DD_ALL = 0, PHI_DD_ODD = 1, PHI_DD_EVEN = 2 };

struct phi_dd_range {
	uint16_t group, ugroup, element, uelement;
	uint8_t grestr, erestr, vr;
	uint32_t kw;
	uint16_t creator; /* private ranges: index in phi_dd_creators; public: 0xFFFF */
};

#include "dicom_dict.inc"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static int found(uint8_t vr, uint32_t kw, const char **vrp, const char **keyword)
{
	*vrp = phi_dd_vr[vr];
	*keyword = phi_dd_str + kw;
	return 0;
}

/* The index of creator in phi_dd_creators (sorted as strcmp sorts), or -1. */
static int find_creator(const char *creator)
{
	size_t lo = 0, hi = NELEM(phi_dd_creators);
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(phi_dd_str + phi_dd_creators[mid], creator);
		if (c == 0)
			return (int)mid;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

/* Bisection of a table sorted by (group, creator, element). */
static const struct phi_dd_exact *find_exact(const struct phi_dd_exact *t, size_t n,
                                             uint16_t group, uint16_t creator, uint16_t element)
{
	uint64_t key = (uint64_t)group << 32 | (uint64_t)creator << 16 | element;
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct phi_dd_exact *p = &t[mid];
		uint64_t k = (uint64_t)p->group << 32 | (uint64_t)p->creator << 16 | p->element;
		if (k == key)
			return p;
		if (k < key)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static int restricted(uint8_t r, uint16_t v)
{
	return (r == PHI_DD_ODD && !(v & 1)) || (r == PHI_DD_EVEN && (v & 1));
}

/* The first range of t that contains the tag (DcmDictEntry::contains; the creator
 * already matched by the list chosen and, for private ones, r->creator == creator).
 * With a creator the element's low byte may also fall in the element range. */
static const struct phi_dd_range *find_range(const struct phi_dd_range *t, size_t n,
                                             uint16_t group, uint16_t element, int creator)
{
	for (size_t i = 0; i < n; i++) {
		const struct phi_dd_range *r = &t[i];
		if (group < r->group || group > r->ugroup)
			continue;
		if (creator >= 0 && r->creator != creator)
			continue;
		if (restricted(r->grestr, group) || restricted(r->erestr, element))
			continue;
		if (element >= r->element && element <= r->uelement)
			return r;
		uint16_t low = element & 0xFF;
		if (creator >= 0 && low >= r->element && low <= r->uelement)
			return r;
	}
	return NULL;
}

int phi_dicom_dict_find(uint16_t group, uint16_t element, const char *creator,
                        const char **vr, const char **keyword)
{
	const struct phi_dd_exact *p = NULL;
	const struct phi_dd_range *r = NULL;
	if (!creator) {
		p = find_exact(phi_dd_public, NELEM(phi_dd_public), group, 0, element);
		if (!p)
			r = find_range(phi_dd_public_ranges, NELEM(phi_dd_public_ranges), group, element,
			               -1);
	} else {
		/* Every private entry names its creator: an unknown one matches nothing. */
		int c = find_creator(creator);
		if (c >= 0) {
			p = find_exact(phi_dd_private, NELEM(phi_dd_private), group, (uint16_t)c, element);
			if (!p)
				p = find_exact(phi_dd_private, NELEM(phi_dd_private), group, (uint16_t)c,
				               element & 0xFF);
			if (!p)
				r = find_range(phi_dd_private_ranges, NELEM(phi_dd_private_ranges), group,
				               element, c);
		}
	}
	if (p)
		return found(p->vr, p->kw, vr, keyword);
	if (r)
		return found(r->vr, r->kw, vr, keyword);
	*vr = "??";
	*keyword = "";
	return -1;
}

void phi_dicom_dict_counts(size_t *pub, size_t *priv, size_t *pub_ranges, size_t *priv_ranges)
{
	*pub = NELEM(phi_dd_public);
	*priv = NELEM(phi_dd_private);
	*pub_ranges = NELEM(phi_dd_public_ranges);
	*priv_ranges = NELEM(phi_dd_private_ranges);
}

static void exact_entry(const struct phi_dd_exact *p, const char *creator,
                        struct phi_dicom_dict_entry *out)
{
	*out = (struct phi_dicom_dict_entry){p->group, p->group, p->element, p->element, 0, 0,
	                                     creator, phi_dd_vr[p->vr], phi_dd_str + p->kw};
}

int phi_dicom_dict_public(size_t i, struct phi_dicom_dict_entry *out)
{
	if (i >= NELEM(phi_dd_public))
		return -1;
	exact_entry(&phi_dd_public[i], NULL, out);
	return 0;
}

int phi_dicom_dict_private(size_t i, struct phi_dicom_dict_entry *out)
{
	if (i >= NELEM(phi_dd_private))
		return -1;
	const struct phi_dd_exact *p = &phi_dd_private[i];
	exact_entry(p, phi_dd_str + phi_dd_creators[p->creator], out);
	return 0;
}

int phi_dicom_dict_range(size_t i, struct phi_dicom_dict_entry *out)
{
	const struct phi_dd_range *r;
	if (i < NELEM(phi_dd_public_ranges))
		r = &phi_dd_public_ranges[i];
	else if (i - NELEM(phi_dd_public_ranges) < NELEM(phi_dd_private_ranges))
		r = &phi_dd_private_ranges[i - NELEM(phi_dd_public_ranges)];
	else
		return -1;
	*out = (struct phi_dicom_dict_entry){
		r->group, r->ugroup, r->element, r->uelement, r->grestr, r->erestr,
		r->creator == 0xFFFF ? NULL : phi_dd_str + phi_dd_creators[r->creator],
		phi_dd_vr[r->vr], phi_dd_str + r->kw};
	return 0;
}
