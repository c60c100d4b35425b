#pragma once
// The HTTP API, independent of any HTTP library: a request in, a response
// out (http_server.cpp adapts cpp-httplib to it). docs/service.md is the
// reference for every route; in short:
//
//   GET  /healthz                                   no token needed
//   GET  /metrics                                   provider-admin
//   GET  /v1/whoami
//   GET  /v1/work-order-types
//   POST /v1/work-orders                            201 + the order
//   GET  /v1/work-orders[?state=&farm=&account=&after=&limit=]
//   GET  /v1/work-orders/ID
//   POST /v1/work-orders/ID/retry                   provider-admin
//   POST /v1/work-orders/ID/close                   provider-admin, {"comment": "..."}
//   GET  /v1/farms, GET /v1/farms/NAME, GET /v1/farms/NAME/source[?revision=N],
//   GET  /v1/farms/NAME/revisions, PUT /v1/farms/NAME[?owner=ACCOUNT]  (body: FML)
//   GET  /v1/accounts                               provider-admin
//   GET  /v1/accounts/ID|me/billable-events[.csv]
//
// Every route but /healthz needs "Authorization: Bearer TOKEN". A tenant sees
// only its own farms, orders and bills: anything else is 404, as if it did not
// exist. Errors are JSON: {"error": {"status": 400, "message": "...", "parameter": "size"}}.
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "runtime/sqlite.h"
#include "service/farm_source_cache.h"
#include "service/json_log.h"
#include "service/metrics.h"

namespace farmctl::service {

struct ApiRequest {
  std::string method;  // "GET", "POST", ...
  std::string path;    // without the query
  std::map<std::string, std::string> query;
  std::map<std::string, std::string> headers;  // names lower-case
  std::string body;
  std::string header(const std::string& lower_name) const {
    auto it = headers.find(lower_name);
    return it == headers.end() ? std::string() : it->second;
  }
};

struct ApiResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::map<std::string, std::string> headers;
};

// Largest request body for anything but a farm upload; the HTTP server caps
// every body at kMaxFarmBody.
inline constexpr std::size_t kMaxOrderBody = 64 * 1024;
inline constexpr std::size_t kMaxFarmBody = 1024 * 1024;

// SQLite connections for the API's threads: each request borrows one, so
// requests run side by side (SQLite serializes their writes).
class ConnectionPool {
 public:
  explicit ConnectionPool(std::string path) : path_(std::move(path)) {}
  class Lease {
   public:
    Lease(ConnectionPool& pool, std::unique_ptr<runtime::Database> db) : pool_(pool), db_(std::move(db)) {}
    ~Lease() { pool_.give_back(std::move(db_)); }
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    runtime::Database& operator*() { return *db_; }

   private:
    ConnectionPool& pool_;
    std::unique_ptr<runtime::Database> db_;
  };
  Lease borrow();

 private:
  void give_back(std::unique_ptr<runtime::Database> db);
  std::string path_;
  std::mutex mutex_;
  std::vector<std::unique_ptr<runtime::Database>> idle_;
};

class Api {
 public:
  // `wake` asks the reconcile loop for a pass (a new order or farm revision).
  Api(std::string db_path, FarmSourceCache& cache, Metrics& metrics, JsonLog& log, std::function<void()> wake)
      : pool_(std::move(db_path)), cache_(cache), metrics_(metrics), log_(log), wake_(std::move(wake)) {}
  // Never throws: every failure is a response.
  ApiResponse handle(const ApiRequest& request);

 private:
  ApiResponse route(const ApiRequest& request);
  ConnectionPool pool_;
  FarmSourceCache& cache_;
  Metrics& metrics_;
  JsonLog& log_;
  std::function<void()> wake_;
};

}  // namespace farmctl::service
