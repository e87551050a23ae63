# bpfabi.mk: check BPF objects with bpfabi from a Makefile
# (docs/integration.md, "Make and CMake").
#
#   BPF_OBJS := build/a.bpf.o build/b.bpf.o
#   include path/to/bpfabi.mk
#   all: $(BPF_OBJS) bpfabi-check
#
# `make bpfabi-check` builds BPF_OBJS and runs
#   bpfabi check --format gnu [--config C] [--policy M] [--kernel K]... OBJS
# which prints one `file:line:col: warning: ...` line per finding (Make,
# editors and CI log readers jump to the source line) and exits 1 when a
# program fails to load on a target kernel or a `deny` policy finding.
#
# Variables (all optional except BPF_OBJS):
#   BPFABI           the bpfabi binary (default: bpfabi)
#   BPFABI_KERNELS   target kernels: debian: names, kernel directories,
#                    packages (default: those of BPFABI_CONFIG, else the
#                    running kernel)
#   BPFABI_MANIFEST  stability manifest (default: bpfabi-policy.toml when
#                    present; it overrides the config's)
#   BPFABI_CONFIG    project configuration (default: .bpfabi.toml when present)
#   BPFABI_FORMAT    gnu (default), table, json, sarif
#   BPFABI_FLAGS     further `check` options (--deny-deprecated, ...)

BPFABI ?= bpfabi
BPFABI_FORMAT ?= gnu
BPFABI_MANIFEST ?= $(wildcard bpfabi-policy.toml)
BPFABI_CONFIG ?= $(wildcard .bpfabi.toml)
BPFABI_KERNELS ?=
BPFABI_FLAGS ?=

BPFABI_CHECK = $(BPFABI) check --format $(BPFABI_FORMAT) \
	$(if $(BPFABI_CONFIG),--config $(BPFABI_CONFIG)) \
	$(if $(BPFABI_MANIFEST),--policy $(BPFABI_MANIFEST)) \
	$(foreach k,$(BPFABI_KERNELS),--kernel $(k)) $(BPFABI_FLAGS)

.PHONY: bpfabi-check
bpfabi-check: $(BPF_OBJS)
	$(BPFABI_CHECK) $(BPF_OBJS)
