# phiscan - build, test, bench, eval, install.
# `make` builds ./phiscan; `make test` runs the rule examples and the Criterion suite.

PREFIX   ?= /usr/local
DESTDIR  ?=
BUILD    ?= build
CC       ?= cc
CXX      ?= c++
VERSION  := 0.1.0

PKGS     := libpcre2-8 yaml-0.1 libsodium libhs zlib expat libpng libturbojpeg libcrypto libarchive
# DCMTK's dcmtk.pc pulls in libsndfile's; linking its libraries directly avoids that.
DCMTK_LIBS := -ldcmdata -loflog -lofstd
WARN     := -Wall -Wextra -Werror -Wshadow -Wno-unused-parameter -Wstrict-prototypes
WARN     += $(if $(findstring clang,$(CC)),,-Wno-format-truncation)
CFLAGS   ?= -O2 -g
ALL_CFLAGS := -std=c11 -D_GNU_SOURCE $(WARN) $(CFLAGS) $(SANFLAGS) \
              $(shell pkg-config --cflags $(PKGS)) \
              -DPHI_VERSION='"$(VERSION)"' -DPHI_DATADIR='"$(PREFIX)/share/phiscan"' \
              -DPHI_YAML_BUILT='"$(shell pkg-config --modversion yaml-0.1)"' \
              -DPHI_LIBARCHIVE_SONAME='"$(or $(LIBARCHIVE_SONAME),libarchive.so.13)"'
# Every library is linked shared by default, so Debian's security updates of OpenSSL,
# libsodium, PCRE2 and the others reach phiscan without a rebuild.  libcrypto is not
# linked at all: formats/sha256.c dlopens it when a CPU without SHA-NI needs it (its
# 3,380 BIND_NOW symbols cost about 2 ms at every start).  Linking some others
# statically saves about 1 ms more of ld.so work (tests/bench/startup.sh; README
# "Start-up"):
#   make STATIC_PKGS="libpcre2-8 yaml-0.1 libsodium libhs"
STATIC_PKGS ?=
# libarchive is not linked either: scanner/archive.c dlopens it, by this soname, at
# the first archive (with ICU and libxml2 it cost about 2.9 ms at every start).  The
# tests and fuzzers that build archives link it (ARCHIVE_LIBS).
LIBARCHIVE_SONAME := $(shell objdump -p $$(pkg-config --variable=libdir libarchive)/libarchive.so 2>/dev/null | awk '/SONAME/ { print $$2 }')
ARCHIVE_LIBS := $(shell pkg-config --libs libarchive)
LINK_PKGS := $(filter-out libcrypto libarchive,$(PKGS))
LIBS     := -Wl,-Bstatic $(if $(STATIC_PKGS),$(shell pkg-config --libs $(STATIC_PKGS))) \
            -Wl,-Bdynamic $(shell pkg-config --libs $(filter-out $(STATIC_PKGS),$(LINK_PKGS))) \
            -lpthread -lm -ldl
# The DICOM bridge (formats/*.cc) is the only C++: C++17, no exceptions across it.
CXXWARN  := -Wall -Wextra -Werror -Wno-unused-parameter
ALL_CXXFLAGS := -std=c++17 -D_GNU_SOURCE $(CXXWARN) $(CFLAGS) $(SANFLAGS) -DPHI_VERSION='"$(VERSION)"'
LDFLAGS  ?=

LIB_SRC  := $(filter-out scanner/main.c formats/pdf_poppler.c,$(wildcard scanner/*.c) $(wildcard formats/*.c))
LIB_CXX  := $(wildcard formats/*.cc)
LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/%.o)
MAIN_OBJ := $(BUILD)/scanner/main.o
TEST_SRC := $(wildcard tests/test_*.c) tests/cli.c
TEST_OBJ := $(TEST_SRC:%.c=$(BUILD)/%.o)
BIN      := phiscan
DCM_MOD  := $(BIN)-dcmtk.so
DCM_BRIDGE := $(LIB_CXX:%.cc=$(BUILD)/%.o)
DCM_OBJ  := $(DCM_BRIDGE) $(BUILD)/formats/sha256.pic.o
PDF_MOD  := $(BIN)-poppler.so

.PHONY: all stress test test-unit test-asan test-tsan test-samples bench eval demo lint clean install uninstall fuzz fuzz-run rules rules-check dicom-table

all: $(BIN) $(DCM_MOD) $(PDF_MOD) $(BUILD)/gencase

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/%.o: %.cc
	@mkdir -p $(dir $@)
	$(CXX) $(ALL_CXXFLAGS) -MMD -MP -c $< -o $@

# Made afresh: `ar r` keeps members an older build put there (the DICOM bridge's
# object, now in its own module, then defined its functions twice).
$(BUILD)/libphiscan.a: $(LIB_OBJ)
	rm -f $@
	ar rcs $@ $^

# DCMTK is a module phiscan loads when a file needs it (formats/dicom_bridge_load.c;
# README "Start-up"): the bridge and its own sha256.c, -fPIC, everything hidden but
# phi_dcm_module(), linked with DCMTK and libstdc++; phiscan is linked with neither
# (libstdc++ only for a static Vectorscan) and finds $(DCM_MOD) beside itself.
$(LIB_CXX:%.cc=$(BUILD)/%.o): ALL_CXXFLAGS += -fPIC -fvisibility=hidden
$(BUILD)/formats/%.pic.o: formats/%.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -fPIC -fvisibility=hidden -MMD -MP -c $< -o $@
$(BUILD)/formats/dicom_bridge_load.o: ALL_CFLAGS += -DPHI_DCM_MODULE_NAME='"$(notdir $(DCM_MOD))"'
$(BUILD)/formats/pdf.o: ALL_CFLAGS += -DPHI_PDF_MODULE_NAME='"$(notdir $(PDF_MOD))"'
$(BUILD)/formats/module.o: ALL_CFLAGS += -DPHI_LIBDIR='"$(PREFIX)/lib/phiscan"'
$(DCM_MOD): $(DCM_OBJ)
	$(CXX) $(CFLAGS) $(SANFLAGS) $(LDFLAGS) -shared -o $@ $^ $(DCMTK_LIBS) -ldl \
	  $(if $(SANFLAGS),,-Wl,--no-undefined)

# PDF is read by Poppler in a module of its own, for the same reason
# (formats/pdf_mod.h): only phi_pdf_module() is visible.
$(BUILD)/formats/pdf_poppler.pic.o: ALL_CFLAGS += $(shell pkg-config --cflags poppler-glib)
$(PDF_MOD): $(BUILD)/formats/pdf_poppler.pic.o
	$(CC) $(CFLAGS) $(SANFLAGS) $(LDFLAGS) -shared -o $@ $^ $(shell pkg-config --libs poppler-glib) \
	  $(if $(SANFLAGS),,-Wl,--no-undefined)

$(BIN): $(MAIN_OBJ) $(BUILD)/default_pack.o $(BUILD)/libphiscan.a | $(DCM_MOD) $(PDF_MOD)
	$(CC) $(CFLAGS) $(SANFLAGS) $(LDFLAGS) -o $@ $^ $(LIBS) \
	  $(if $(filter libhs,$(STATIC_PKGS)),-lstdc++)

# The default pack as C data (phi_default_pack: its SHA-256 and every record), written
# only when packcheck has loaded it and compiled every pattern with the engine; else
# empty.  phiscan then skips libyaml for a default pack with those bytes and compiles
# its rules on first use, not at start.  Not in libphiscan.a: packcheck links that.
$(BUILD)/default_pack.c: rules/default.yaml $(BUILD)/packcheck
	$(BUILD)/packcheck rules/default.yaml > $@.tmp && mv $@.tmp $@

$(BUILD)/default_pack.o: $(BUILD)/default_pack.c scanner/rules.h scanner/engine.h
	$(CC) $(ALL_CFLAGS) -I. -c $< -o $@

$(BUILD)/packcheck: $(BUILD)/rules/src/packcheck.o $(BUILD)/libphiscan.a
	$(CXX) $(CFLAGS) $(SANFLAGS) $(LDFLAGS) -o $@ $^ $(LIBS)

# One translation unit: gencase.c includes corpus/gen_*.c (DICOM, meshes, images).
$(BUILD)/gencase: corpus/gencase.c $(wildcard corpus/gen_*.c)
	@mkdir -p $(dir $@)
	$(CC) -std=c11 -D_GNU_SOURCE $(WARN) $(CFLAGS) $(SANFLAGS) -o $@ $< -lz -lm

$(BUILD)/run-tests: $(TEST_OBJ) $(BUILD)/default_pack.o $(BUILD)/libphiscan.a
	$(CXX) $(CFLAGS) $(SANFLAGS) $(LDFLAGS) -o $@ $^ $(LIBS) $(shell pkg-config --libs criterion) \
	  $(shell pkg-config --libs libcrypto) $(ARCHIVE_LIBS) # reference digests; test archives

# The kill test's LD_PRELOAD shim (tests/killshim.c): counts file writes, SIGKILL at
# the Nth.  Never sanitized: it is preloaded into the binary under test.
$(BUILD)/killshim.so: tests/killshim.c
	@mkdir -p $(dir $@)
	$(CC) -std=c11 -D_GNU_SOURCE $(WARN) -O2 -fPIC -shared -o $@ $< -ldl

# The Criterion suite runs last so its summary line ends the output.
test: $(BIN) $(PDF_MOD) $(BUILD)/gencase $(BUILD)/run-tests $(BUILD)/killshim.so
	./$(BIN) rules test
	PHISCAN=$(CURDIR)/$(BIN) GENCASE=$(CURDIR)/$(BUILD)/gencase KILLSHIM=$(CURDIR)/$(BUILD)/killshim.so \
	  PHISCAN_DCMTK_MODULE=$(CURDIR)/$(DCM_MOD) PHISCAN_POPPLER_MODULE=$(CURDIR)/$(PDF_MOD) \
	  $(BUILD)/run-tests --jobs 2 $(TESTFLAGS)

test-asan:
	LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp \
	$(MAKE) BUILD=build-asan BIN=phiscan-asan CFLAGS='-O1 -g -fno-omit-frame-pointer' \
	  SANFLAGS='-fsanitize=address,undefined -fno-sanitize-recover=all' test

# Criterion cannot start under ThreadSanitizer (Snaipe/Criterion#274): the pool is
# driven by a plain stress program, and the whole scanner runs at 1-32 threads.
test-tsan:
	$(MAKE) BUILD=build-tsan BIN=phiscan-tsan CFLAGS='-O1 -g' SANFLAGS='-fsanitize=thread' \
	  phiscan-tsan build-tsan/gencase build-tsan/tsan-stress
	PHISCAN=./phiscan-tsan GENCASE=build-tsan/gencase STRESS=build-tsan/tsan-stress bash tests/tsan.sh

$(BUILD)/tsan-stress: $(BUILD)/tests/tsan_stress.o $(BUILD)/libphiscan.a
	$(CXX) $(CFLAGS) $(SANFLAGS) -o $@ $^ $(LIBS)

-include $(LIB_OBJ:.o=.d) $(DCM_OBJ:.o=.d) $(BUILD)/formats/pdf_poppler.pic.d $(MAIN_OBJ:.o=.d) $(TEST_OBJ:.o=.d) $(BUILD)/rules/src/packcheck.d

clean:
	rm -rf build build-asan build-tsan build-fuzz phiscan phiscan-asan phiscan-tsan \
	  phiscan-dcmtk.so phiscan-asan-dcmtk.so phiscan-tsan-dcmtk.so \
	  phiscan-poppler.so phiscan-asan-poppler.so phiscan-tsan-poppler.so

# ---- beyond the unit tests ----

# Real public files in ../shared/samples (not part of this repository).
# tests/samples.sh checks every file is accounted for; samples_*.sh one format each.
test-samples: $(BIN)
	set -e; for t in tests/samples.sh tests/samples_*.sh; do \
	  [ -f "$$t" ] || continue; PHISCAN=./$(BIN) GENCASE=$(BUILD)/gencase bash "$$t"; done

# Issue 7: 50,000 mixed files scanned at 1, 2, 8 and 32 threads, JSON reports
# compared byte for byte (run time removed); time and peak RSS per thread count.
stress: $(BIN) $(BUILD)/gencase
	PHISCAN=./$(BIN) GENCASE=$(BUILD)/gencase bash tests/stress.sh

# Recall and precision per class on the generated corpus.
eval: $(BIN) $(BUILD)/gencase
	PHISCAN=./$(BIN) GENCASE=$(BUILD)/gencase bash tests/eval.sh

# phiscan against ripgrep on a generated 150 MB corpus (one large file, 20,000 small).
# Then one script per format family (tests/bench/bench_*.sh: DICOM, meshes, images).
bench: $(BIN) $(BUILD)/gencase $(BUILD)/sha256-bench $(BUILD)/dict-bench
	PHISCAN=./$(BIN) GENCASE=$(BUILD)/gencase bash tests/bench/run.sh
	set -e; for b in tests/bench/bench_*.sh; do \
	  [ -f "$$b" ] || continue; PHISCAN=./$(BIN) GENCASE=$(BUILD)/gencase \
	  SHA256_BENCH=$(BUILD)/sha256-bench DICT_BENCH=$(BUILD)/dict-bench bash "$$b"; done

# The micro benchmark of the manifest's three SHA-256 passes (tests/bench/bench_sha256.sh).
$(BUILD)/sha256-bench: tests/bench/sha256_bench.c $(BUILD)/libphiscan.a
	$(CC) $(ALL_CFLAGS) -o $@ $< $(BUILD)/libphiscan.a $(LIBS)

# The compiled DICOM dictionary against DCMTK's lookup (tests/bench/bench_dict.sh);
# the bridge linked in (no module), with the C++ driver.
$(BUILD)/dict-bench: tests/bench/dict_bench.c $(BUILD)/libphiscan.a $(DCM_BRIDGE)
	$(CC) $(ALL_CFLAGS) -c -o $(BUILD)/dict_bench.o $<
	$(CXX) $(CFLAGS) $(SANFLAGS) -o $@ $(BUILD)/dict_bench.o $(DCM_BRIDGE) $(BUILD)/libphiscan.a \
	  $(LIBS) $(DCMTK_LIBS)

# The main job on the bundled sample corpus: generate it, scan it, strip it.
demo: $(BIN) $(BUILD)/gencase
	PHISCAN=./$(BIN) GENCASE=$(BUILD)/gencase bash tests/demo.sh

# Banned functions, then clang-tidy (.clang-tidy): any warning fails.
lint:
	bash tests/banned.sh
	@out=$$(clang-tidy --quiet $(LIB_SRC) scanner/main.c -- -std=c11 -D_GNU_SOURCE \
	  $(shell pkg-config --cflags $(PKGS)) -DPHI_VERSION='"x"' -DPHI_DATADIR='"x"' 2>/dev/null | \
	  grep -E 'warning:|error:' || true); \
	if [ -n "$$out" ]; then echo "$$out"; exit 1; else echo "clang-tidy: ok"; fi

# Binary, rule packs and data, man page, bash completion.  The binary finds its data
# relative to itself (BIN/../share/phiscan), so a DESTDIR staging tree runs as is.
MANDIR   ?= $(PREFIX)/share/man
COMPDIR  ?= $(PREFIX)/share/bash-completion/completions
install: $(BIN)
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/phiscan/rules/names \
	  $(DESTDIR)$(PREFIX)/lib/phiscan \
	  $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(COMPDIR)
	install -m 755 $(BIN) $(DESTDIR)$(PREFIX)/bin/phiscan
	install -m 644 $(DCM_MOD) $(DESTDIR)$(PREFIX)/lib/phiscan/phiscan-dcmtk.so
	install -m 644 $(PDF_MOD) $(DESTDIR)$(PREFIX)/lib/phiscan/phiscan-poppler.so
	install -m 644 rules/*.yaml rules/*.txt $(DESTDIR)$(PREFIX)/share/phiscan/rules/
	install -m 644 rules/names/*.txt $(DESTDIR)$(PREFIX)/share/phiscan/rules/names/
	install -m 644 man/phiscan.1 $(DESTDIR)$(MANDIR)/man1/phiscan.1
	install -m 644 completion/phiscan.bash $(DESTDIR)$(COMPDIR)/phiscan

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/phiscan $(DESTDIR)$(MANDIR)/man1/phiscan.1 \
	  $(DESTDIR)$(COMPDIR)/phiscan
	rm -rf $(DESTDIR)$(PREFIX)/share/phiscan $(DESTDIR)$(PREFIX)/lib/phiscan

# libFuzzer targets (clang); FUZZ_SECONDS per target; crashes land in tests/fuzz/crashes/.
FUZZ_SECONDS ?= 60
FUZZ_TARGETS ?= $(patsubst tests/fuzz/%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
fuzz:
	$(MAKE) BUILD=build-fuzz CC=clang CXX=clang++ CFLAGS='-O1 -g' \
	  SANFLAGS='-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all' fuzz-run

fuzz-run: $(BUILD)/libphiscan.a $(DCM_BRIDGE) $(BUILD)/formats/pdf_poppler.pic.o
	@mkdir -p tests/fuzz/crashes
	set -e; for t in $(FUZZ_TARGETS); do \
	  $(CC) $(ALL_CFLAGS) -c -o $(BUILD)/$$t.o tests/fuzz/$$t.c; \
	  $(CXX) $(CFLAGS) $(SANFLAGS) -fsanitize=fuzzer -o $(BUILD)/$$t $(BUILD)/$$t.o $(DCM_BRIDGE) \
	    $(BUILD)/formats/pdf_poppler.pic.o $(BUILD)/libphiscan.a $(LIBS) $(DCMTK_LIBS) \
	    $(ARCHIVE_LIBS) $(shell pkg-config --libs poppler-glib); \
	  mkdir -p $(BUILD)/corpus-$$t; cp -n tests/fuzz/seeds/$$t/* $(BUILD)/corpus-$$t/ 2>/dev/null || true; \
	  $(BUILD)/$$t -max_total_time=$(FUZZ_SECONDS) -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
	    -artifact_prefix=tests/fuzz/crashes/$$t- $(BUILD)/corpus-$$t; \
	done

# rules/default.yaml is generated from rules/src/ (building blocks expanded).
rules:
	cat rules/src/macros.txt rules/src/rules.tmpl > $(BUILD)/rules.tmpl
	python3 rules/src/expand.py $(BUILD)/rules.tmpl rules/default.yaml

# The DICOM de-identification table (PS3.15 E.1-1) from ../shared/dicom and DCMTK's
# dictionary; both outputs are committed.
ANNEX_E_SRC ?= ../shared/dicom/confidentiality_profile_attributes.json
DICOM_DIC   ?= /usr/share/libdcmtk17/dicom.dic
# phiscan's data dictionary (formats/dicom_dict.inc) from both files DCMTK loads.
PRIVATE_DIC ?= /usr/share/libdcmtk17/private.dic
# PS3.3 Types (IODs, modules, macros) from GDCM's Part3.xml (Debian libgdcm3.0) for the
# combined codes; the safe private table (PS3.15 E.3.10-1) from its committed TSV.
PART3_XML   ?= /usr/share/gdcm-3.0/XML/Part3.xml
dicom-table:
	python3 rules/src/annex_e.py $(ANNEX_E_SRC) $(DICOM_DIC) rules/dicom/annex-e.tsv formats/dicom_annex_e.inc
	python3 rules/src/iod_types.py $(PART3_XML) rules/dicom/annex-e.tsv rules/dicom/iod-types.tsv formats/dicom_iod_types.inc
	python3 rules/src/safe_private.py rules/dicom/safe-private.tsv formats/dicom_safe_private.inc
	python3 rules/src/dcm_dict.py $(DICOM_DIC) $(PRIVATE_DIC) formats/dicom_dict.inc

rules-check:
	@mkdir -p $(BUILD)
	if [ -f $(ANNEX_E_SRC) ] && [ -f $(DICOM_DIC) ]; then \
	  python3 rules/src/annex_e.py $(ANNEX_E_SRC) $(DICOM_DIC) $(BUILD)/annex-e.tsv $(BUILD)/annex-e.inc && \
	  cmp $(BUILD)/annex-e.tsv rules/dicom/annex-e.tsv && cmp $(BUILD)/annex-e.inc formats/dicom_annex_e.inc || \
	  { echo "the DICOM table is out of date: run make dicom-table"; exit 1; }; fi
	if [ -f $(PART3_XML) ]; then \
	  python3 rules/src/iod_types.py $(PART3_XML) rules/dicom/annex-e.tsv $(BUILD)/iod-types.tsv $(BUILD)/iod-types.inc && \
	  cmp $(BUILD)/iod-types.tsv rules/dicom/iod-types.tsv && cmp $(BUILD)/iod-types.inc formats/dicom_iod_types.inc || \
	  { echo "the IOD Type table is out of date: run make dicom-table"; exit 1; }; fi
	python3 rules/src/safe_private.py rules/dicom/safe-private.tsv $(BUILD)/safe-private.inc
	cmp $(BUILD)/safe-private.inc formats/dicom_safe_private.inc || \
	  { echo "the safe private table is out of date: run make dicom-table"; exit 1; }
	if [ -f $(DICOM_DIC) ] && [ -f $(PRIVATE_DIC) ]; then \
	  python3 rules/src/dcm_dict.py $(DICOM_DIC) $(PRIVATE_DIC) $(BUILD)/dicom-dict.inc && \
	  cmp $(BUILD)/dicom-dict.inc formats/dicom_dict.inc || \
	  { echo "the DICOM data dictionary is out of date: run make dicom-table"; exit 1; }; fi
	cat rules/src/macros.txt rules/src/rules.tmpl > $(BUILD)/rules.tmpl
	python3 rules/src/expand.py $(BUILD)/rules.tmpl $(BUILD)/default.yaml
	cmp $(BUILD)/default.yaml rules/default.yaml || \
	  { echo "rules/default.yaml is out of date: edit rules/src/ and run make rules"; exit 1; }
