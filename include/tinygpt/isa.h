#pragma once
// Which implementation of the numeric kernels runs. Both compute the same steps; the
// portable one is plain C++ (and the definition of each step), the AVX2 one uses AVX2/FMA
// on x86-64 CPUs that have them. Results agree within 1e-5.
namespace tinygpt::kernels {

enum class Isa { portable, avx2 };
const char* to_string(Isa isa);

// Whether this CPU (and this build) can run `isa`.
bool cpu_supports(Isa isa);

// AVX2/FMA when the CPU has them, else portable. The environment variable
// TINYGPT_KERNELS=portable (or =scalar) forces the portable path; =avx2 or =auto (or
// unset) takes the best the CPU supports. Read once.
Isa default_isa();

}  // namespace tinygpt::kernels
