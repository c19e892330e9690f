# Avellaneda-Stoikov (2008) closed forms. Units: prices USD, q contracts, sigma USD/sqrt(s),
# tau seconds, gamma 1/(USD x contract), k 1/USD.

cpdef double as_reservation_price(double mid, double q, double gamma, double sigma, double tau) noexcept nogil
cpdef double as_spread(double gamma, double sigma, double tau, double k) noexcept nogil
cpdef tuple as_quotes(double mid, double q, double gamma, double sigma, double tau, double k)
