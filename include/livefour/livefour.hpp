// livefour — umbrella header: everything a user of the client needs.
#pragma once

#include <livefour/async_source.hpp>
#include <livefour/attempt_event.hpp>
#include <livefour/cancel_after.hpp>
#include <livefour/client.hpp>
#include <livefour/diagnostics.hpp>
#include <livefour/error.hpp>
#include <livefour/faceid/client.hpp>
#include <livefour/faceid/error.hpp>
#include <livefour/faceid/options.hpp>
#include <livefour/faceid/requests.hpp>
#include <livefour/faceid/types.hpp>
#include <livefour/multipart.hpp>
#include <livefour/options.hpp>
#include <livefour/pool_stats.hpp>
#include <livefour/requests.hpp>
#include <livefour/retry.hpp>
#include <livefour/secret.hpp>
#include <livefour/signer.hpp>
#include <livefour/types.hpp>
#include <livefour/with_diagnostics.hpp>
