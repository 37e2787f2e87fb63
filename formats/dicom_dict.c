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
 * dcm_dict.py builds the list in DCMTK's order; here the exact entries are two
 * sorted tables searched by bisection.  Private creators are PS3.5 7.8.1.
 *
 * Threading: read-only data.  Ownership: every string returned is static.
 */
#include "dicom_dict.h"

#include <string.h>

struct phi_dd_exact {
	uint16_t group, element;
	uint8_t vr;
	uint32_t kw; /* offset in phi_dd_str */
};

struct phi_dd_private {
	uint16_t group, element; /* sorted by group, creator (strcmp), element */
	uint8_t vr;
	uint32_t creator, kw;
};

enum { PHI_DD_ALL = 0, PHI_DD_ODD = 1, PHI_DD_EVEN = 2 };
#define PHI_DD_NONE UINT32_MAX /* a public range: no creator */

struct phi_dd_range {
	uint16_t group, ugroup, element, uelement;
	uint8_t grestr, erestr, vr;
	uint32_t creator, kw;
};

#include "dicom_dict.inc"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static int found(uint8_t vr, uint32_t kw, const char **vrp, const char **keyword)
{
	*vrp = phi_dd_vr[vr];
	*keyword = phi_dd_str + kw;
	return 0;
}

static const struct phi_dd_exact *find_public(uint16_t group, uint16_t element)
{
	uint32_t key = (uint32_t)group << 16 | element;
	size_t lo = 0, hi = NELEM(phi_dd_public);
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct phi_dd_exact *p = &phi_dd_public[mid];
		uint32_t k = (uint32_t)p->group << 16 | p->element;
		if (k == key)
			return p;
		if (k < key)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static int cmp_private(const struct phi_dd_private *p, uint16_t group, const char *creator,
                       uint16_t element)
{
	if (p->group != group)
		return p->group < group ? -1 : 1;
	int c = strcmp(phi_dd_str + p->creator, creator);
	if (c)
		return c;
	if (p->element != element)
		return p->element < element ? -1 : 1;
	return 0;
}

static const struct phi_dd_private *find_private(uint16_t group, const char *creator,
                                                 uint16_t element)
{
	size_t lo = 0, hi = NELEM(phi_dd_private);
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = cmp_private(&phi_dd_private[mid], group, creator, element);
		if (c == 0)
			return &phi_dd_private[mid];
		if (c < 0)
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

/* DcmDictEntry::contains */
static int range_contains(const struct phi_dd_range *r, uint16_t group, uint16_t element,
                          const char *creator)
{
	if (restricted(r->grestr, group) || restricted(r->erestr, element))
		return 0;
	if (group < r->group || group > r->ugroup)
		return 0;
	if (r->creator == PHI_DD_NONE || !creator) {
		if ((r->creator == PHI_DD_NONE) != !creator)
			return 0;
	} else if (strcmp(phi_dd_str + r->creator, creator) != 0) {
		return 0;
	}
	if (element >= r->element && element <= r->uelement)
		return 1;
	uint16_t low = element & 0xFF;
	return creator && low >= r->element && low <= r->uelement;
}

int phi_dicom_dict_find(uint16_t group, uint16_t element, const char *creator,
                        const char **vr, const char **keyword)
{
	if (!creator) {
		const struct phi_dd_exact *p = find_public(group, element);
		if (p)
			return found(p->vr, p->kw, vr, keyword);
	} else {
		const struct phi_dd_private *p = find_private(group, creator, element);
		if (!p)
			p = find_private(group, creator, element & 0xFF);
		if (p)
			return found(p->vr, p->kw, vr, keyword);
	}
	for (size_t i = 0; i < NELEM(phi_dd_ranges); i++) {
		const struct phi_dd_range *r = &phi_dd_ranges[i];
		if (range_contains(r, group, element, creator))
			return found(r->vr, r->kw, vr, keyword);
	}
	*vr = "??";
	*keyword = "";
	return -1;
}

void phi_dicom_dict_counts(size_t *pub, size_t *priv, size_t *ranges)
{
	*pub = NELEM(phi_dd_public);
	*priv = NELEM(phi_dd_private);
	*ranges = NELEM(phi_dd_ranges);
}

int phi_dicom_dict_public(size_t i, struct phi_dicom_dict_entry *out)
{
	if (i >= NELEM(phi_dd_public))
		return -1;
	const struct phi_dd_exact *p = &phi_dd_public[i];
	*out = (struct phi_dicom_dict_entry){p->group, p->group, p->element, p->element, 0, 0,
	                                     NULL, phi_dd_vr[p->vr], phi_dd_str + p->kw};
	return 0;
}

int phi_dicom_dict_private(size_t i, struct phi_dicom_dict_entry *out)
{
	if (i >= NELEM(phi_dd_private))
		return -1;
	const struct phi_dd_private *p = &phi_dd_private[i];
	*out = (struct phi_dicom_dict_entry){p->group, p->group, p->element, p->element, 0, 0,
	                                     phi_dd_str + p->creator, phi_dd_vr[p->vr],
	                                     phi_dd_str + p->kw};
	return 0;
}

int phi_dicom_dict_range(size_t i, struct phi_dicom_dict_entry *out)
{
	if (i >= NELEM(phi_dd_ranges))
		return -1;
	const struct phi_dd_range *r = &phi_dd_ranges[i];
	*out = (struct phi_dicom_dict_entry){
		r->group, r->ugroup, r->element, r->uelement, r->grestr, r->erestr,
		r->creator == PHI_DD_NONE ? NULL : phi_dd_str + r->creator, phi_dd_vr[r->vr],
		phi_dd_str + r->kw};
	return 0;
}
