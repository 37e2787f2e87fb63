/* rules.c - rule packs: the class and severity vocabularies, and the YAML loader.
 *
 * Classes follow HIPAA Safe Harbor, 45 CFR 164.514(b)(2)(i)(A)-(R).
 * Threading: loading happens in main before workers start.
 * Ownership: see rules.h.
 */
#include "rules.h"

#include <string.h>

const struct phi_class_info phi_classes[] = {
	{"name", 'A', "[NAME]"},
	{"address", 'B', "[ADDRESS]"},
	{"zip", 'B', "[ZIP]"},
	{"date", 'C', "[DATE]"},
	{"age", 'C', "[AGE]"},
	{"phone", 'D', "[PHONE]"},
	{"fax", 'E', "[FAX]"},
	{"email", 'F', "[EMAIL]"},
	{"ssn", 'G', "[SSN]"},
	{"mrn", 'H', "[MRN]"},
	{"healthplan", 'I', "[HEALTHPLAN]"},
	{"account", 'J', "[ACCOUNT]"},
	{"license", 'K', "[LICENSE]"},
	{"vehicle", 'L', "[VEHICLE]"},
	{"device", 'M', "[DEVICE]"},
	{"url", 'N', "[URL]"},
	{"ip", 'O', "[IP]"},
	{"biometric", 'P', "[BIOMETRIC]"},
	{"photo", 'Q', "[PHOTO]"},
	{"id", 'R', "[ID]"},
	{NULL, 0, NULL},
};

const struct phi_class_info *phi_class_find(const char *name)
{
	for (size_t i = 0; name && phi_classes[i].name; i++)
		if (strcmp(phi_classes[i].name, name) == 0)
			return &phi_classes[i];
	return NULL;
}

static const char *const severity_names[] = {"quasi", "provider", "patient"};

const char *phi_severity_name(enum phi_severity s)
{
	return (unsigned)s < 3 ? severity_names[s] : "unknown";
}

int phi_severity_parse(const char *name, enum phi_severity *out)
{
	for (int i = 0; i < 3; i++)
		if (strcmp(name, severity_names[i]) == 0) {
			*out = (enum phi_severity)i;
			return 0;
		}
	return PHI_EUSAGE;
}
