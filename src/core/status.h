// Status and Result<T> live in the client library's public header, include/llamanet/status.h,
// so that the installed API and every internal part share one type. Include this header from
// code under src/ (its include path is src/); the path below needs no extra include directory.
#pragma once

#include "../../include/llamanet/status.h"  // IWYU pragma: export
