# Sourced by the scripts that run sanitized binaries (test-sanitizers.sh, test-fuzz.sh): re-executes the
# calling script, with its arguments, without address-space randomisation, for it and every child.
#
# Why: the sanitizer runtimes of Debian 12's compilers (GCC 12's libtsan and libasan, clang 14's) put their
# shadow memory at fixed addresses and die at start-up where the kernel randomises mmap with more bits than
# they were written for (vm.mmap_rnd_bits = 32, the default of recent kernels; 28 was): ThreadSanitizer with
# a bare "Segmentation fault" or "FATAL: ThreadSanitizer: unexpected memory mapping" before main, AddressSanitizer
# with an endless stream of "AddressSanitizer:DEADLYSIGNAL" (a hang). Both seen here after writing 32 to
# /proc/sys/vm/mmap_rnd_bits, and both gone under setarch -R. LLVM 18's runtimes re-execute themselves
# without ASLR; these do not, so this does it for them.
if [ -z "${Y26_NO_ASLR:-}" ] && (((0x$(cat /proc/self/personality) & 0x0040000) == 0)); then
  export Y26_NO_ASLR=1
  if setarch "$(uname -m)" -R true 2>/dev/null; then
    exec setarch "$(uname -m)" -R bash "$0" "$@"
  fi
  bits=$(cat /proc/sys/vm/mmap_rnd_bits 2>/dev/null || echo unknown)
  if [ "$bits" != unknown ] && [ "$bits" -gt 28 ]; then
    echo "error: the sanitized binaries cannot start here: vm.mmap_rnd_bits is $bits (the sanitizer runtimes of" \
      "GCC 12 and clang 14 need 28 or less) and setarch -R (no ASLR) is not permitted." \
      "Run 'sysctl -w vm.mmap_rnd_bits=28', or allow the personality system call." >&2
    exit 1
  fi
fi
