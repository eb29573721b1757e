// SPDX-License-Identifier: GPL-2.0
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "provenance.h"

/* The facts that decide whether two runs' timings compare. */
static const char *const same_host_keys[] = { "accel", "host_cpu" };

const char *provenance_get(const struct provenance *p, const char *key)
{
	size_t i;

	for (i = 0; i < p->nr; i++)
		if (!strcmp(p->key[i], key))
			return p->value[i];
	return NULL;
}

static void provenance_add(struct provenance *p, const char *key,
			   const char *value)
{
	p->key = realloc(p->key, (p->nr + 1) * sizeof(*p->key));
	p->value = realloc(p->value, (p->nr + 1) * sizeof(*p->value));
	if (!p->key || !p->value)
		abort();
	p->key[p->nr] = strdup(key);
	p->value[p->nr] = strdup(value);
	if (!p->key[p->nr] || !p->value[p->nr])
		abort();
	p->nr++;
}

void provenance_default(struct provenance *p, const char *key,
			const char *value)
{
	if (!provenance_get(p, key))
		provenance_add(p, key, value);
}

static bool key_valid(const char *key)
{
	if (!*key)
		return false;
	for (; *key; key++)
		if (!islower((unsigned char)*key) &&
		    !isdigit((unsigned char)*key) && *key != '_')
			return false;
	return true;
}

int provenance_read(struct provenance *p, const char *path)
{
	char *line = NULL, *eq;
	size_t cap = 0, nr = 0;
	int err = 0;
	ssize_t len;
	FILE *f;

	f = fopen(path, "r");
	if (!f) {
		err = -errno;
		fprintf(stderr, "%s: %s\n", path, strerror(-err));
		return err;
	}
	while ((len = getline(&line, &cap, f)) >= 0) {
		nr++;
		if (len && line[len - 1] == '\n')
			line[--len] = '\0';
		if (!len)
			continue;
		eq = strchr(line, '=');
		if (eq)
			*eq = '\0';
		if (!eq || !key_valid(line)) {
			fprintf(stderr, "%s:%zu: not a KEY=VALUE line of tools/provenance\n",
				path, nr);
			err = -EINVAL;
			break;
		}
		/* A key given twice: the last one holds, as in a shell. */
		if (provenance_get(p, line)) {
			size_t i;

			for (i = 0; strcmp(p->key[i], line); i++)
				;
			free(p->value[i]);
			p->value[i] = strdup(eq + 1);
			if (!p->value[i])
				abort();
		} else {
			provenance_add(p, line, eq + 1);
		}
	}
	if (!err && ferror(f))
		err = -EIO;
	free(line);
	fclose(f);
	return err;
}

/* The first "model name" of /proc/cpuinfo, and whether "hypervisor" is set. */
static void read_cpuinfo(char *model, size_t len, bool *hypervisor)
{
	char line[4096], *colon;
	FILE *f = fopen("/proc/cpuinfo", "r");

	snprintf(model, len, "unknown");
	*hypervisor = false;
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		colon = strchr(line, ':');
		if (!colon)
			continue;
		if (!strncmp(line, "model name", 10) && !strcmp(model, "unknown")) {
			colon += 1 + (colon[1] == ' ');
			colon[strcspn(colon, "\n")] = '\0';
			snprintf(model, len, "%s", colon);
		} else if (!strncmp(line, "flags", 5) &&
			   strstr(colon, " hypervisor")) {
			*hypervisor = true;
		}
	}
	fclose(f);
}

static long memory_mib(void)
{
	long pages = sysconf(_SC_PHYS_PAGES), size = sysconf(_SC_PAGESIZE);

	return pages > 0 && size > 0 ? pages / (1048576 / size) : -1;
}

void provenance_observe(struct provenance *p)
{
	const char *accel = provenance_get(p, "accel");
	char model[256], buf[32];
	bool hypervisor;

	read_cpuinfo(model, sizeof(model), &hypervisor);
	snprintf(buf, sizeof(buf), "%ld", sysconf(_SC_NPROCESSORS_ONLN));
	if (accel && (!strcmp(accel, "kvm") || !strcmp(accel, "tcg"))) {
		provenance_default(p, "guest_vcpus", buf);
		snprintf(buf, sizeof(buf), "%ld", memory_mib());
		provenance_default(p, "guest_memory_mib", buf);
		return;
	}
	provenance_default(p, "host_cpu", model);
	provenance_default(p, "host_cpus", buf);
	provenance_default(p, "accel", hypervisor ? "unknown" : "none");
}

void provenance_free(struct provenance *p)
{
	size_t i;

	for (i = 0; i < p->nr; i++) {
		free(p->key[i]);
		free(p->value[i]);
	}
	free(p->key);
	free(p->value);
	memset(p, 0, sizeof(*p));
}

json_object *provenance_to_json(const struct provenance *p)
{
	json_object *o;
	size_t i;

	if (!p->nr)
		return NULL;
	o = json_object_new_object();
	for (i = 0; i < p->nr; i++)
		json_object_object_add(o, p->key[i],
				       json_object_new_string(p->value[i]));
	return o;
}

int provenance_from_json(json_object *o, struct provenance *p,
			 const char *path)
{
	if (!json_object_is_type(o, json_type_object)) {
		fprintf(stderr, "%s: \"provenance\" is not an object\n", path);
		return -EINVAL;
	}
	json_object_object_foreach(o, key, value) {
		if (!json_object_is_type(value, json_type_string)) {
			fprintf(stderr, "%s: provenance \"%s\" is not a string\n",
				path, key);
			provenance_free(p);
			return -EINVAL;
		}
		provenance_add(p, key, json_object_get_string(value));
	}
	return 0;
}

bool provenance_comparable(const struct provenance *a, const char *a_name,
			   const struct provenance *b, const char *b_name,
			   FILE *f)
{
	bool same = true;
	const char *va, *vb;
	size_t i;

	if (!a->nr && !b->nr) {
		fprintf(f,
			"# warning: neither %s nor %s says what measured it: cannot tell whether they compare\n",
			a_name, b_name);
		return true;
	}
	for (i = 0; i < sizeof(same_host_keys) / sizeof(*same_host_keys); i++) {
		va = provenance_get(a, same_host_keys[i]);
		vb = provenance_get(b, same_host_keys[i]);
		if (!va || !vb || !strcmp(va, "unknown") ||
		    !strcmp(vb, "unknown")) {
			fprintf(f,
				"# warning: %s does not say its %s: cannot tell whether it was measured as %s was\n",
				!va || !strcmp(va, "unknown") ? a_name : b_name,
				same_host_keys[i],
				!va || !strcmp(va, "unknown") ? b_name : a_name);
			continue;
		}
		if (strcmp(va, vb)) {
			fprintf(f, "# %s: %s is \"%s\", %s's \"%s\"\n",
				same_host_keys[i], a_name, va, b_name, vb);
			same = false;
		}
	}
	return same;
}

bool provenance_verdict(bool same, bool allow, const char *what, FILE *f)
{
	if (same)
		return true;
	if (allow) {
		fprintf(f,
			"# warning: compared anyway (--allow-different-hosts): a change may be the host's\n");
		return true;
	}
	fprintf(stderr,
		"gup_benchmark: %s were not measured alike (above): their times do not compare; --allow-different-hosts compares them anyway\n",
		what);
	return false;
}
