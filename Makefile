# whiplash - vector search on Amazon DynamoDB from PostgreSQL (PGXS build)

EXTENSION = whiplash

MODULE_big = whiplash
CORE_OBJS = src/core/sigv4.o src/core/http.o src/core/ddbjson.o src/core/dynamodb.o \
	src/core/operations.o src/core/lsh.o src/core/distance.o src/core/store.o \
	src/core/meta.o src/core/format.o src/core/format_lsh.o src/core/format_v1.o src/core/format_native.o src/core/format_packed.o src/core/packed_meta.o src/core/packed_plan.o src/core/packed_models.o src/core/model.o src/core/model_train.o src/core/model_bytes.o \
	src/core/cells.o src/core/calibrate.o src/core/calibrate_text.o src/core/tune.o src/core/attrs.o \
	src/core/recordname.o src/core/itemfile.o src/core/predicate.o src/core/recordattrs.o src/core/packed_attrs.o src/core/packed_keys.o \
	src/core/attrstats.o
GLUE_OBJS = src/whiplash.o src/options.o src/connection.o src/calls.o src/errors.o \
	src/tables.o src/setup.o src/collection.o src/metadata.o src/ddl.o src/vecarray.o \
	src/write.o src/search.o src/search_plan.o src/search_partitions.o src/operators.o src/fdw.o src/fdw_scan.o \
	src/fdw_modify.o src/fdw_import.o src/fdw_analyze.o src/attributes.o src/xact.o src/check.o \
	src/reindex.o src/autotrain.o src/worker.o src/builds.o src/modelcache.o src/recall.o src/filter.o src/recordfilter.o src/encoding.o src/columns.o src/ddlcheck.o src/explain.o
OBJS = $(GLUE_OBJS) $(CORE_OBJS)

DATA = sql/$(EXTENSION)--0.4.0.sql sql/$(EXTENSION)--0.1.0.sql \
	sql/$(EXTENSION)--0.1.0--0.2.0.sql sql/$(EXTENSION)--0.2.0--0.3.0.sql \
	sql/$(EXTENSION)--0.3.0--0.4.0.sql sql/$(EXTENSION)--0.4.0--0.5.0.sql

# pg_regress: tests in sql/, expected output in expected/; expected/T_1.out
# and T_2.out hold what PostgreSQL 17 and 18 (or their libcurl) print
# differently, and pg_regress takes the closest.
REGRESS = options setup failures faults collections transactions check privileges sqlsurface columns encodings attributes recall packed filterable partitions background words embeddings v1 upgrade
REGRESS_OPTS = --load-extension=$(EXTENSION)

PG_CPPFLAGS = -I$(srcdir)/src
# -Wall -Wextra always; `make WERROR=1` (as the test suite builds) adds -Werror.
# OPTFLAGS (empty by default) adds optimisation flags, as pgvector's does:
# `make OPTFLAGS=-march=native` lets the compiler use every vector unit of
# this CPU for distances and projections.
PG_CFLAGS = -Wall -Wextra -Wno-unused-parameter -Wno-missing-field-initializers \
	$(if $(WERROR),-Werror) $(OPTFLAGS)
SHLIB_LINK = -lcurl -ljson-c -lcrypto

EXTRA_CLEAN = src/.cflags src/.program-cflags test/unit/build test/unit/build-sanitize test/bench/build \
	$(API_OBJS) $(CLI_OBJS) src/api/openapi.c src/api/whiplash-api src/cli/whiplash

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

# Bucket keys must not depend on how a server was built: servers sharing a
# collection hash alike only if no multiply-add is fused in one build and
# not in another (-march=native allows FMA), so projections never fuse.
src/core/lsh.o: override CFLAGS += -ffp-contract=off

# The Postgres-free core's unit tests: built and run without Postgres
# headers; `make unittest SANITIZE=address,undefined` builds them with
# those sanitizers.
.PHONY: unittest
unittest:
	$(MAKE) -C test/unit run SANITIZE=$(SANITIZE)

# Every object depends on every header: PGXS tracks no header dependencies.
$(OBJS): $(wildcard $(srcdir)/src/*.h $(srcdir)/src/core/*.h)

# ... and on the flags it was built with, so that a build with WERROR=1
# after one without rebuilds every object rather than trusting old ones.
.PHONY: cflags-changed
src/.cflags: cflags-changed
	@echo '$(CFLAGS) $(PG_CFLAGS)' | cmp -s - $@ || echo '$(CFLAGS) $(PG_CFLAGS)' >$@
$(OBJS): src/.cflags

# Programs beside the extension: whiplash-api, the original whiplash's HTTP
# API served over it (libmicrohttpd, libpq), and whiplash, its command-line
# client (libcurl).  Installed into PROGRAM_DIR, on users' PATH.
PROGRAM_DIR ?= /usr/local/bin
PROGRAM_CFLAGS = -std=gnu11 -O2 -g -Wall -Wextra -Wno-unused-parameter \
	-Wno-missing-field-initializers $(if $(WERROR),-Werror) -I$(includedir)
API_OBJS = $(patsubst %.c,%.o,$(filter-out src/api/openapi.c,$(wildcard src/api/*.c))) \
	src/api/openapi.o
CLI_OBJS = $(patsubst %.c,%.o,$(wildcard src/cli/*.c))

all: src/api/whiplash-api src/cli/whiplash

$(API_OBJS) $(CLI_OBJS): override CFLAGS = $(PROGRAM_CFLAGS)
$(API_OBJS) $(CLI_OBJS): override CPPFLAGS =
$(API_OBJS): src/api/api.h src/.program-cflags
$(CLI_OBJS): $(wildcard src/cli/*.h) src/.program-cflags
src/.program-cflags: cflags-changed
	@echo '$(PROGRAM_CFLAGS)' | cmp -s - $@ || echo '$(PROGRAM_CFLAGS)' >$@

src/api/whiplash-api: $(API_OBJS)
	$(CC) $(PROGRAM_CFLAGS) -o $@ $^ -lmicrohttpd -L$(libdir) -lpq -ljson-c -lcrypto -lpthread

src/cli/whiplash: $(CLI_OBJS)
	$(CC) $(PROGRAM_CFLAGS) -o $@ $^ -lcurl -ljson-c -lm

# The OpenAPI document, compiled into the server as a C string.
src/api/openapi.c: src/api/openapi.json
	{ echo '/* generated from openapi.json by the Makefile */'; \
	  echo 'const char api_openapi_json[] = {'; \
	  od -An -v -tu1 $< | sed 's/[0-9][0-9]*/&,/g'; \
	  echo '0};'; } >$@

install: install-programs
.PHONY: install-programs
install-programs: src/api/whiplash-api src/cli/whiplash
	$(MKDIR_P) '$(DESTDIR)$(PROGRAM_DIR)'
	$(INSTALL_PROGRAM) src/api/whiplash-api src/cli/whiplash '$(DESTDIR)$(PROGRAM_DIR)'
