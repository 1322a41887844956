#include "y26/y26.h"

namespace y26 {
const char* version() { return Y26_VERSION_STRING; }
}  // namespace y26
