# Gueant-Lehalle-Fernandez-Tapia (2013) / Gueant (2017) infinite-horizon closed form.
# Units: sigma USD/sqrt(s), A fills/s, k 1/USD, gamma and xi 1/(USD x contract),
# delta (order size) contracts, q contracts (a multiple of delta in the paper).

cpdef double glft_c1(double xi, double k, double delta) noexcept nogil
cpdef double glft_c2(double gamma, double xi, double a, double k, double delta) noexcept nogil
cpdef double glft_half_spread(double c1, double c2, double sigma, double delta) noexcept nogil
cpdef double glft_skew(double c2, double sigma) noexcept nogil
cpdef tuple glft_quotes(double fair, double q, double sigma, double c1, double c2, double delta)
