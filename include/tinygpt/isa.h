#pragma once
// Which implementation of the numeric kernels runs. All compute the same steps; the
// portable one is plain C++ (and the definition of each step), the AVX2 one uses AVX2/FMA
// (and F16C) on x86-64 CPUs that have them, and avx512 is the AVX2 set with the kernels
// where AVX-512 pays replaced (today q8_0's byte dot products, with AVX-512 VNNI; it needs
// AVX-512 F, BW, VL and VNNI). Results agree within 1e-5.
namespace tinygpt::kernels {

enum class Isa { portable, avx2, avx512 };
const char* to_string(Isa isa);

// Whether this CPU (and this build) can run `isa`.
bool cpu_supports(Isa isa);

// The best the CPU supports: avx512, else avx2, else portable. The environment variable
// TINYGPT_KERNELS=portable (or =scalar) forces the portable path, =avx2 the AVX2 one (where
// the CPU has it); =avx512 or =auto (or unset) takes the best. Read once.
Isa default_isa();

}  // namespace tinygpt::kernels
