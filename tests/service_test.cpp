// farmctl serve, end to end ([service]): a real service on loopback, real
// HTTP, real child processes — the work-order life cycle, tenants kept apart,
// bad input refused with nothing stored, concurrent clients, kill -9 in the
// middle of an order, a --farms file edited, a failing device backing off.
// Plus the service's pure parts on their own (FML edits, backoff, tokens,
// mail orders).
#include <catch2/catch.hpp>

#include <atomic>
#include <set>
#include <thread>

#include "runtime/sim_driver.h"
#include "service/api_token.h"
#include "service/backoff.h"
#include "service/farm_source.h"
#include "service/mail_order.h"
#include "service_fixture.h"

namespace farmctl::testing {
namespace {

using namespace std::chrono_literals;

Json order(const std::string& type, Json parameters, const std::string& description = "") {
  Json body{{"type", type}, {"parameters", std::move(parameters)}};
  if (!description.empty()) body["description"] = description;
  return body;
}

// Submits and returns the new order's id (REQUIREs a 201).
std::int64_t submit(Api& api, const Json& body) {
  HttpResult r = api.post("/v1/work-orders", body);
  INFO(r.body);
  REQUIRE(r.status == 201);
  return r.json["id"].get<std::int64_t>();
}

// Waits until the order leaves new/open; returns it.
Json settle(Api& api, std::int64_t id, std::chrono::milliseconds limit = 30s) {
  Json last;
  ServiceWorld::wait_until(
      [&] {
        last = api.get(fmt::format("/v1/work-orders/{}", id)).json;
        return last.is_object() && (last["state"] == "closed" || last["state"] == "failed");
      },
      limit);
  return last;
}

Json farm(Api& api, const std::string& name) { return api.get("/v1/farms/" + name).json; }

bool ready_at_head(Api& api, const std::string& name) {
  Json f = farm(api, name);
  return f.is_object() && f["status"].is_object() && f["status"]["status"] == "Ready" &&
         f["status"]["observed_revision"] == f["revision"];
}

// Consecutive failed reconciles of the farm (0 before its first).
int failures(Api& api, const std::string& name) {
  Json f = farm(api, name);
  if (!f.is_object() || !f["status"].is_object() || !f["status"]["failures"].is_number()) return 0;
  return f["status"]["failures"].get<int>();
}

std::uint64_t volume_size(const Json& farm_json, const std::string& id) {
  for (const Json& v : farm_json["volumes"])
    if (v["id"] == id) return v["size_mb"].get<std::uint64_t>();
  return 0;
}

}  // namespace

TEST_CASE("service: the whole work-order life cycle over HTTP", "[service]") {
  ServiceWorld w;
  std::string acme = w.create_account("acme", "customer-admin", "100GB");
  std::string viewer = w.create_account("acme-viewer", "viewer");
  std::string prov = w.create_account("prov", "provider-admin");
  w.put_farm("acme-web.fml", web_farm("acme-web", 1), "acme");
  w.start_serve();
  Api a = w.api(acme), p = w.api(prov);
  REQUIRE(ServiceWorld::wait_until([&] { return ready_at_head(a, "acme-web"); }));

  SECTION("types by level, each with its parameters") {
    Json types = a.get("/v1/work-order-types").json["types"];
    std::set<std::string> names;
    for (const Json& t : types) {
      names.insert(t["name"].get<std::string>());
      for (const Json& param : t["parameters"]) {
        CHECK(param.contains("name"));
        CHECK(param.contains("type"));
        CHECK(param["required"].is_boolean());
      }
    }
    CHECK(names == std::set<std::string>{"allocate-storage", "connect-storage", "grow-disk", "migrate-server",
                                         "scale-tier", "take-snapshot", "restore-disk"});
    CHECK(w.api(viewer).get("/v1/work-order-types").json["types"].empty());
  }

  // allocate (into the account's own storage farm, created by the order)
  std::int64_t allocate = submit(a, order("allocate-storage", {{"name", "archive"}, {"size", "2GB"}}, "for backups"));
  Json done = settle(a, allocate);
  INFO(done.dump(2) << w.log_text());
  REQUIRE(done["state"] == "closed");
  CHECK(done["quantity"] == 2048);
  CHECK(done["unit"] == "MB");
  CHECK(done["farm"] == "acme-storage");
  REQUIRE(ServiceWorld::wait_until([&] { return ready_at_head(a, "acme-storage"); }));
  CHECK(volume_size(farm(a, "acme-storage"), "global/archive") == 2048);
  CHECK(farm(a, "acme-storage")["owner"] == "acme");

  // grow a global disk: the stored farm gets a new revision with the new size
  std::int64_t grow = submit(a, order("grow-disk", {{"farm", "acme-web"}, {"disk", "data"}, {"size", 3072}}));
  REQUIRE(settle(a, grow)["state"] == "closed");
  REQUIRE(ServiceWorld::wait_until([&] { return ready_at_head(a, "acme-web"); }));
  CHECK(volume_size(farm(a, "acme-web"), "global/data") == 3072);
  HttpResult source = a.get("/v1/farms/acme-web/source");
  CHECK(source.body.find("global-name=\"data\" drivesize=\"3GB\"") != std::string::npos);
  Json revisions = a.get("/v1/farms/acme-web/revisions").json["revisions"];
  REQUIRE(revisions.size() == 2);
  CHECK(revisions[0]["work_order"] == grow);

  // connect the global disk to the servers of web-0's role
  std::int64_t connect =
      submit(a, order("connect-storage", {{"farm", "acme-web"}, {"disk", "data"}, {"server", "web-0"}}));
  REQUIRE(settle(a, connect)["state"] == "closed");
  REQUIRE(ServiceWorld::wait_until([&] { return ready_at_head(a, "acme-web"); }));
  bool exported = false;
  Json web = farm(a, "acme-web");
  for (const Json& e : web["exports"])
    if (e["volume"] == "global/data" && e["server"] == "web-0") exported = e["protocol"] == "iscsi";
  CHECK(exported);

  // scale the tier: a second server with its own boot disk
  std::int64_t scale = submit(a, order("scale-tier", {{"farm", "acme-web"}, {"tier", "web"}, {"servers", 2}}));
  REQUIRE(settle(a, scale)["state"] == "closed");
  REQUIRE(ServiceWorld::wait_until([&] { return ready_at_head(a, "acme-web"); }));
  CHECK(farm(a, "acme-web")["servers"].size() == 2);
  CHECK(volume_size(farm(a, "acme-web"), "web-1/t0") == 1024);

  // a snapshot of a disk without a backup policy is refused; a restore of a
  // copy that does not exist is accepted, then fails
  HttpResult no_policy = a.post("/v1/work-orders", order("take-snapshot", {{"farm", "acme-web"}, {"disk", "data"}}));
  CHECK(no_policy.status == 400);
  CHECK(no_policy.body.find("has no backup-policy") != std::string::npos);
  std::int64_t snapshot = submit(a, order("restore-disk", {{"farm", "acme-web"}, {"disk", "data"}, {"copy", 7}}));
  Json failed = settle(a, snapshot);
  REQUIRE(failed["state"] == "failed");
  CHECK(failed["reason"].get<std::string>().find("farm acme-web has no copy 7") != std::string::npos);

  // the provider admin sees the failed order, the customer may not close it, the provider closes it by hand
  Json failed_list = p.get("/v1/work-orders?state=failed").json["work_orders"];
  REQUIRE(failed_list.size() == 1);
  CHECK(failed_list[0]["id"] == snapshot);
  CHECK(a.post(fmt::format("/v1/work-orders/{}/close", snapshot), {{"comment", "x"}}).status == 403);
  CHECK(a.post(fmt::format("/v1/work-orders/{}/retry", snapshot), Json::object()).status == 403);
  HttpResult closed = p.post(fmt::format("/v1/work-orders/{}/close", snapshot), {{"comment", "restored by hand"}});
  INFO(closed.body);
  REQUIRE(closed.status == 200);
  CHECK(closed.json["state"] == "closed");
  CHECK(p.post(fmt::format("/v1/work-orders/{}/close", snapshot), {{"comment", "again"}}).status == 409);

  // every closed order billed once, as JSON and as CSV
  Json events = a.get("/v1/accounts/me/billable-events").json["billable_events"];
  REQUIRE(events.size() == 5);
  std::set<std::int64_t> billed;
  for (const Json& e : events) billed.insert(e["work_order"].get<std::int64_t>());
  CHECK(billed == std::set<std::int64_t>{allocate, grow, connect, scale, snapshot});
  CHECK(events[4]["comment"] == "restored by hand");
  HttpResult csv = a.get("/v1/accounts/me/billable-events.csv");
  CHECK(csv.status == 200);
  CHECK(csv.body.starts_with("id,account,account_id,work_order,type,quantity,unit,time,comment\r\n"));
  CHECK(std::count(csv.body.begin(), csv.body.end(), '\n') == 6);
  CHECK(csv.body.find(fmt::format(",acme,1,{},allocate-storage,2048,MB,", allocate)) != std::string::npos);

  // metrics: provider admins only
  HttpResult metrics = p.get("/metrics");
  REQUIRE(metrics.status == 200);
  CHECK(metrics.body.find("farmctl_work_orders{state=\"closed\"} 5") != std::string::npos);
  CHECK(metrics.body.find("farmctl_reconciles_total{result=\"success\"}") != std::string::npos);
  CHECK(metrics.body.find("farmctl_actions_total{op=\"grow\",outcome=\"ok\"} 1") != std::string::npos);
  CHECK(metrics.body.find("farmctl_farms{status=\"Ready\"} 2") != std::string::npos);
  CHECK(a.get("/metrics").status == 403);

  // structured log: one JSON object per line, with the ids
  std::istringstream log(w.log_text());
  std::string line;
  bool saw_closed = false;
  while (std::getline(log, line)) {
    if (line.empty() || line[0] != '{') continue;
    Json j = Json::parse(line, nullptr, false);
    REQUIRE(!j.is_discarded());
    if (j["event"] == "work_order.closed" && j["work_order"] == grow) saw_closed = j["farm"] == "acme-web";
  }
  CHECK(saw_closed);

  CHECK(WEXITSTATUS(w.serve().stop()) == 0);
}

TEST_CASE("service: bad requests get a clear 4xx and store nothing", "[service]") {
  ServiceWorld w;
  std::string acme = w.create_account("acme", "customer-admin", "10GB");
  std::string viewer = w.create_account("watcher", "viewer");
  w.put_farm("acme-web.fml", web_farm("acme-web", 1), "acme");
  w.start_serve();
  Api a = w.api(acme);
  auto stored = [&] { return w.count("SELECT COUNT(*) FROM work_orders"); };
  auto refused = [&](const std::string& body, int status, const std::string& parameter, const std::string& words) {
    HttpResult r = a.post_raw("/v1/work-orders", body);
    INFO(body << " -> " << r.status << " " << r.body);
    CHECK(r.status == status);
    REQUIRE(r.json.is_object());
    if (!parameter.empty()) CHECK(r.json["error"]["parameter"] == parameter);
    CHECK(r.json["error"]["message"].get<std::string>().find(words) != std::string::npos);
  };
  refused("{\"type\": \"grow-disk\", ", 400, "", "malformed JSON");
  refused("[1, 2]", 400, "", "JSON object");
  refused(R"({"type": "grow-disk", "parameters": {}, "priority": 1})", 400, "", "unknown field 'priority'");
  refused(R"({"type": "grow-disk", "parameters": {"farm": "acme-web", "disk": "data", "size": 4096, "speed": 1}})",
          400, "speed", "no such parameter");
  refused(R"({"type": "grow-disk", "parameters": {"farm": "acme-web", "disk": "data"}})", 400, "size", "required");
  refused(R"({"type": "grow-disk", "parameters": {"farm": "acme-web", "disk": "data", "size": -5}})", 400, "size",
          "negative");
  refused(R"({"type": "grow-disk", "parameters": {"farm": "acme-web", "disk": "data", "size": "-5GB"}})", 400, "size",
          "negative");
  refused(R"({"type": "grow-disk", "parameters": {"farm": "acme-web", "disk": "data", "size": 1e300}})", 400, "size",
          "whole number");
  refused(R"({"type": "grow-disk", "parameters": {"farm": "acme-web", "disk": "data", "size": 18446744073709551615}})",
          400, "size", "largest size");
  refused(R"({"type": "grow-disk", "parameters": {"farm": "acme-web", "disk": "data", "size": "99999TB"}})", 400,
          "size", "largest size");
  refused(R"({"type": "grow-disk", "parameters": {"farm": "acme-web", "disk": "data", "size": "12XB"}})", 400, "size",
          "unit");
  refused(R"({"type": "grow-disk", "parameters": {"farm": "acme-web", "disk": "data", "size": 512}})", 400, "size",
          "only grow");
  refused(R"({"type": "grow-disk", "parameters": {"farm": "acme-web", "disk": "nope", "size": 4096}})", 400, "disk",
          "no disk 'nope'");
  refused(R"({"type": "grow-disk", "parameters": {"farm": "nowhere", "disk": "data", "size": 4096}})", 400, "farm",
          "no farm 'nowhere'");
  refused(R"({"type": "connect-storage", "parameters": {"farm": "acme-web", "disk": "data", "server": "db-7"}})", 400,
          "server", "no server or tier 'db-7'");
  refused(R"({"type": "scale-tier", "parameters": {"farm": "acme-web", "tier": "web", "servers": 5000}})", 400,
          "servers", "out of range");
  refused(R"({"type": "scale-tier", "parameters": {"farm": "acme-web", "tier": "web", "servers": 4}})", 400, "servers",
          "at most 3");
  refused(R"({"type": "launch-rocket", "parameters": {}})", 400, "", "unknown work-order type");
  refused(R"({"type": "allocate-storage", "parameters": {"name": "huge", "size": "20GB"}})", 403, "", "quota");
  refused(std::string(70 * 1024, ' ') + "{}", 413, "", "at most");
  CHECK(stored() == 0);

  // authentication and level
  CHECK(w.api("").get("/v1/work-orders").status == 401);
  CHECK(w.api("fct_1_" + std::string(64, '0')).get("/v1/work-orders").status == 401);
  CHECK(w.api("not-a-token").get("/v1/whoami").status == 401);
  CHECK(w.api(acme.substr(0, acme.size() - 1) + (acme.back() == '0' ? "1" : "0")).get("/v1/whoami").status == 401);
  CHECK(w.api("").get("/healthz").status == 200);
  HttpResult denied = w.api(viewer).post(
      "/v1/work-orders", order("grow-disk", {{"farm", "acme-web"}, {"disk", "data"}, {"size", 4096}}));
  CHECK(denied.status == 403);
  CHECK(stored() == 0);

  // a farm upload that does not compile, or names another farm
  HttpResult bad_farm = a.put_raw("/v1/farms/acme-web", "<farm fmlversion=\"1.2\" name=\"acme-web\"><tier/></farm>");
  CHECK(bad_farm.status == 400);
  CHECK(bad_farm.json["error"]["message"].get<std::string>().find("does not compile") != std::string::npos);
  CHECK(a.put_raw("/v1/farms/acme-web", web_farm("other", 1)).status == 400);
  CHECK(w.count("SELECT revision FROM stored_farms WHERE name = 'acme-web'") == 1);
}

// The host a farm's server is placed on, as GET /v1/farms/NAME shows it.
std::string host_of(Api& api, const std::string& farm_name, const std::string& server) {
  Json f = farm(api, farm_name);
  for (const Json& s : f["servers"])
    if (s["name"] == server && s["host"].is_string()) return s["host"].get<std::string>();
  return "";
}

TEST_CASE("service: a migrate-server order moves a server to an idle host, and bad ones are refused",
          "[service][migration]") {
  ServiceWorld w;
  std::string acme = w.create_account("acme", "customer-admin");
  std::string ops = w.create_account("acme-ops", "server-admin");
  std::string prov = w.create_account("prov", "provider-admin");
  w.put_farm("acme-web.fml", web_farm("acme-web", 1), "acme");
  w.put_farm("other.fml", web_farm("other", 1));
  w.start_serve();
  Api a = w.api(acme), p = w.api(prov);
  REQUIRE(ServiceWorld::wait_until([&] { return ready_at_head(a, "acme-web") && ready_at_head(p, "other"); }));
  std::string from = host_of(a, "acme-web", "web-0");
  std::string busy = host_of(p, "other", "web-0");
  REQUIRE_FALSE(from.empty());
  REQUIRE_FALSE(busy.empty());
  std::string to;
  for (std::string h : {"x01", "x02", "x03", "x04"})
    if (h != from && h != busy && to.empty()) to = h;
  auto stored = [&] { return w.count("SELECT COUNT(*) FROM work_orders"); };
  auto bindings_on = [&](const std::string& host) {
    return w.count("SELECT COUNT(*) FROM bindings b JOIN hosts h ON h.id = b.host_id WHERE h.name = '" + host + "'");
  };
  REQUIRE(bindings_on(from) == 1);

  auto refused = [&](Api& api, const Json& parameters, int status, const std::string& parameter,
                     const std::string& words) {
    HttpResult r = api.post("/v1/work-orders", order("migrate-server", parameters));
    INFO(parameters.dump() << " -> " << r.status << " " << r.body);
    CHECK(r.status == status);
    REQUIRE(r.json.is_object());
    if (!parameter.empty()) CHECK(r.json["error"]["parameter"] == parameter);
    CHECK(r.json["error"]["message"].get<std::string>().find(words) != std::string::npos);
  };
  refused(a, {{"farm", "acme-web"}, {"server", "web-9"}, {"host", to}}, 400, "server",
          "farm acme-web has no server 'web-9'");
  refused(a, {{"farm", "acme-web"}, {"server", "web-0"}, {"host", "zz9"}}, 400, "host",
          "cannot move server web-0: the wiring map has no host named 'zz9'");
  refused(a, {{"farm", "acme-web"}, {"server", "web-0"}, {"host", from}}, 400, "host",
          fmt::format("cannot move server web-0: it is on host {} already", from));
  refused(a, {{"farm", "acme-web"}, {"server", "web-0"}, {"host", busy}}, 409, "host",
          fmt::format("cannot move server web-0 to host {}: the host is not idle", busy));
  refused(a, {{"farm", "acme-web"}, {"server", "web-0"}}, 400, "host", "required");
  refused(a, {{"farm", "other"}, {"server", "web-0"}, {"host", to}}, 403, "farm", "belongs to another account");
  Api o = w.api(ops);
  refused(o, {{"farm", "acme-web"}, {"server", "web-0"}, {"host", to}}, 403, "",
          "migrate-server");
  CHECK(stored() == 0);
  CHECK(host_of(a, "acme-web", "web-0") == from);

  std::int64_t id = submit(a, order("migrate-server", {{"farm", "acme-web"}, {"server", "web-0"}, {"host", to}}));
  Json done = settle(a, id);
  INFO(done.dump(2) << w.log_text());
  REQUIRE(done["state"] == "closed");
  CHECK(done["quantity"] == 1);
  CHECK(done["unit"] == "move");
  CHECK(host_of(a, "acme-web", "web-0") == to);
  CHECK(bindings_on(to) == 1);
  CHECK(bindings_on(from) == 0);
  CHECK(host_of(p, "other", "web-0") == busy);
  Json events = a.get("/v1/accounts/me/billable-events").json["billable_events"];
  REQUIRE(events.size() == 1);
  CHECK(events[0]["type"] == "migrate-server");
  // The farm stays where it was moved: the next passes change nothing.
  REQUIRE(ServiceWorld::wait_until([&] { return ready_at_head(a, "acme-web"); }));
  CHECK(host_of(a, "acme-web", "web-0") == to);
  CHECK(WEXITSTATUS(w.serve().stop()) == 0);
  CliResult check = w.cli({"inventory", "check"});
  INFO(check.out << check.err);
  CHECK(check.exit_code == 0);
}

TEST_CASE("service: tenants see and touch only their own farms, orders and bills", "[service]") {
  ServiceWorld w;
  std::string acme = w.create_account("acme", "customer-admin");
  std::string globex = w.create_account("globex", "customer-admin");
  std::string prov = w.create_account("prov", "provider-admin");
  w.put_farm("acme-web.fml", web_farm("acme-web", 1), "acme");
  w.put_farm("globex-db.fml", web_farm("globex-db", 1), "globex");
  w.start_serve();
  Api a = w.api(acme), g = w.api(globex), p = w.api(prov);

  std::int64_t mine = submit(a, order("grow-disk", {{"farm", "acme-web"}, {"disk", "data"}, {"size", "2GB"}}));
  REQUIRE(settle(a, mine)["state"] == "closed");
  std::int64_t theirs = submit(g, order("grow-disk", {{"farm", "globex-db"}, {"disk", "data"}, {"size", "2GB"}}));
  REQUIRE(settle(g, theirs)["state"] == "closed");

  // farms
  Json g_farms = g.get("/v1/farms").json["farms"];
  REQUIRE(g_farms.size() == 1);
  CHECK(g_farms[0]["name"] == "globex-db");
  CHECK(g.get("/v1/farms/acme-web").status == 404);
  CHECK(g.get("/v1/farms/acme-web/source").status == 404);
  CHECK(g.get("/v1/farms/acme-web/revisions").status == 404);
  CHECK(g.put_raw("/v1/farms/acme-web", web_farm("acme-web", 0)).status == 403);
  CHECK(p.get("/v1/farms").json["farms"].size() == 2);

  // orders
  CHECK(g.get(fmt::format("/v1/work-orders/{}", mine)).status == 404);
  Json g_orders = g.get("/v1/work-orders").json["work_orders"];
  REQUIRE(g_orders.size() == 1);
  CHECK(g_orders[0]["id"] == theirs);
  CHECK(g.get("/v1/work-orders?account=acme").status == 403);
  HttpResult poach =
      g.post("/v1/work-orders", order("grow-disk", {{"farm", "acme-web"}, {"disk", "data"}, {"size", "5GB"}}));
  CHECK(poach.status == 403);
  CHECK(poach.json["error"]["parameter"] == "farm");
  CHECK(p.get("/v1/work-orders").json["work_orders"].size() == 2);
  CHECK(p.get("/v1/work-orders?account=acme").json["work_orders"].size() == 1);

  // bills
  std::int64_t acme_id = a.get("/v1/whoami").json["id"];
  CHECK(g.get(fmt::format("/v1/accounts/{}/billable-events", acme_id)).status == 404);
  CHECK(g.get(fmt::format("/v1/accounts/{}/billable-events.csv", acme_id)).status == 404);
  Json g_events = g.get("/v1/accounts/me/billable-events").json["billable_events"];
  REQUIRE(g_events.size() == 1);
  CHECK(g_events[0]["work_order"] == theirs);
  CHECK(p.get(fmt::format("/v1/accounts/{}/billable-events", acme_id)).json["billable_events"].size() == 1);
  CHECK(g.get("/v1/accounts").status == 403);
  CHECK(w.count("SELECT COUNT(*) FROM work_orders") == 2);
}

TEST_CASE("service: orders by mail and on the command line", "[service]") {
  ServiceWorld w;
  w.create_account("globex", "customer-admin");
  std::string prov = w.create_account("prov", "provider-admin");
  w.put_farm("globex-db.fml", web_farm("globex-db", 1), "globex");
  w.start_serve();
  Api p = w.api(prov);

  std::string mail = w.write("order.eml",
                             "From: Jane Admin <jane@globex.example>\r\n"
                             "To: Storage Orders <orders@provider.example>\r\n"
                             "Subject: Grow disk\r\n"
                             "Message-ID: <1234@globex.example>\r\n"
                             "\r\n"
                             "farm: globex-db\r\n"
                             "disk: global/data\r\n"
                             "size: 6GB\r\n"
                             "description: the database needs room\r\n"
                             "\r\n"
                             "-- \r\n"
                             "Jane\r\n");
  CliResult submitted = w.cli({"workorder", "submit", "--from-mail", mail, "--customer", "globex"});
  INFO(submitted.out << submitted.err);
  REQUIRE(submitted.exit_code == 0);
  CHECK(submitted.out.find("To: Jane Admin <jane@globex.example>") != std::string::npos);
  CHECK(submitted.out.find("From: Storage Orders <orders@provider.example>") != std::string::npos);
  CHECK(submitted.out.find("In-Reply-To: <1234@globex.example>") != std::string::npos);
  CHECK(submitted.out.find("Subject: Re: Grow disk [work order 1]") != std::string::npos);
  CHECK(submitted.out.find("  work order:  1\n") != std::string::npos);
  REQUIRE(settle(p, 1)["state"] == "closed");
  CHECK(p.get("/v1/work-orders/1").json["description"] == "the database needs room");

  std::string bad = w.write("bad.eml", "From: jane@globex.example\nSubject: grow-disk\n\nfarm: globex-db\ncolour: red\n");
  CliResult refused = w.cli({"workorder", "submit", "--from-mail", bad, "--customer", "globex"});
  CHECK(refused.exit_code == 1);
  CHECK(refused.out.find("Subject: Re: grow-disk [refused]") != std::string::npos);
  CHECK(refused.out.find("parameter colour") != std::string::npos);
  CHECK(w.count("SELECT COUNT(*) FROM work_orders") == 1);

  // a failing order, retried and closed by hand from the command line
  CliResult snap = w.cli({"workorder", "submit", "--from-mail",
                          w.write("snap.eml", "From: jane@globex.example\nSubject: restore-disk\n\nfarm: globex-db\n"
                                              "disk: data\ncopy: 7\n"),
                          "--customer", "globex"});
  REQUIRE(snap.exit_code == 0);
  REQUIRE(settle(p, 2)["state"] == "failed");
  CliResult listed = w.cli({"workorder", "list", "--state", "failed"});
  CHECK(listed.out.find("restore-disk") != std::string::npos);
  CHECK(w.cli({"workorder", "retry", "2"}).exit_code == 0);
  REQUIRE(settle(p, 2)["state"] == "failed");  // fails again: still no such copy
  CliResult closed = w.cli({"workorder", "close", "2", "--comment", "copied by hand"});
  INFO(closed.out << closed.err);
  CHECK(closed.exit_code == 0);
  CHECK(w.cli({"workorder", "close", "2", "--comment", "twice"}).exit_code == 1);
  CliResult shown = w.cli({"workorder", "show", "2", "--json"});
  Json two = Json::parse(shown.out);
  CHECK(two["state"] == "closed");
  CHECK(two["comment"] == "copied by hand");
  CHECK(w.count("SELECT COUNT(*) FROM billable_events") == 2);

  // a stored farm deleted: the service stops reconciling it; its orders and bills stay
  CliResult deleted = w.cli({"farm", "delete", "globex-db"});
  INFO(deleted.out << deleted.err);
  CHECK(deleted.exit_code == 0);
  CHECK(p.get("/v1/farms/globex-db").status == 404);
  CHECK(w.cli({"farm", "delete", "globex-db"}).exit_code == 1);
  CHECK(p.get("/v1/work-orders/1").json["state"] == "closed");
  CHECK(w.serve().running());
}

TEST_CASE("service: 8 concurrent clients, 200 orders each: each stored once and carried out once", "[service]") {
  constexpr int kClients = 8, kOrders = 200;
  ServiceWorld w;
  std::string prov = w.create_account("prov", "provider-admin");
  std::vector<std::string> tokens;
  for (int c = 0; c < kClients; ++c) {
    tokens.push_back(w.create_account(fmt::format("tenant{}", c), "customer-admin"));
    w.put_farm(fmt::format("farm{}.fml", c), storage_farm(fmt::format("farm{}", c), "1024MB"),
               fmt::format("tenant{}", c));
  }
  w.start_serve();
  Api p = w.api(prov);
  auto started = std::chrono::steady_clock::now();

  // Each client grows its farm's disk one MB at a time: every order changes
  // the farm, so an order carried out twice or lost would show in its size.
  std::vector<std::vector<std::int64_t>> ids(kClients);
  std::atomic<int> failures{0};
  std::vector<std::thread> clients;
  for (int c = 0; c < kClients; ++c) {
    clients.emplace_back([&, c] {
      Api api = w.api(tokens[static_cast<std::size_t>(c)]);
      for (int i = 1; i <= kOrders; ++i) {
        HttpResult r = api.post(
            "/v1/work-orders", order("grow-disk", {{"farm", fmt::format("farm{}", c)}, {"disk", "data"}, {"size", 1024 + i}},
                                     fmt::format("client {} order {}", c, i)));
        if (r.status != 201) {
          ++failures;
          continue;
        }
        ids[static_cast<std::size_t>(c)].push_back(r.json["id"].get<std::int64_t>());
      }
    });
  }
  for (auto& t : clients) t.join();
  auto submitted = std::chrono::steady_clock::now();
  REQUIRE(failures == 0);

  bool all_closed = ServiceWorld::wait_until(
      [&] { return w.count("SELECT COUNT(*) FROM work_orders WHERE state = 'closed'") == kClients * kOrders; }, 120s);
  auto closed = std::chrono::steady_clock::now();
  INFO(w.count("SELECT COUNT(*) FROM work_orders WHERE state = 'closed'") << " closed");
  REQUIRE(all_closed);
  WARN(fmt::format("{} orders: submitted in {} ms, all closed after {} ms", kClients * kOrders,
                   std::chrono::duration_cast<std::chrono::milliseconds>(submitted - started).count(),
                   std::chrono::duration_cast<std::chrono::milliseconds>(closed - started).count()));

  // stored once: every id distinct, every description exactly once
  std::set<std::int64_t> all;
  for (const auto& v : ids) all.insert(v.begin(), v.end());
  CHECK(all.size() == kClients * kOrders);
  Json listed = p.get("/v1/work-orders?limit=10000").json["work_orders"];
  REQUIRE(listed.size() == kClients * kOrders);
  std::set<std::string> descriptions;
  for (const Json& o : listed) descriptions.insert(o["description"].get<std::string>());
  CHECK(descriptions.size() == kClients * kOrders);

  // carried out once: one billable event per order, one revision per order,
  // and each disk exactly as large as its last order asked
  CHECK(w.count("SELECT COUNT(*) FROM billable_events") == kClients * kOrders);
  CHECK(w.count("SELECT COUNT(DISTINCT work_order_id) FROM billable_events") == kClients * kOrders);
  CHECK(w.count("SELECT SUM(quantity) FROM billable_events") == kClients * kOrders);  // 1 MB each
  for (int c = 0; c < kClients; ++c) {
    std::string name = fmt::format("farm{}", c);
    CHECK(w.count(fmt::format("SELECT revision FROM stored_farms WHERE name = '{}'", name)) == 1 + kOrders);
    CHECK(w.count(fmt::format("SELECT COUNT(DISTINCT work_order_id) FROM farm_revisions WHERE farm = '{}'", name)) ==
          kOrders);
    REQUIRE(ServiceWorld::wait_until([&] { return ready_at_head(p, name); }));
    CHECK(volume_size(farm(p, name), "global/data") == 1024 + kOrders);
  }
  CHECK(WEXITSTATUS(w.serve().stop()) == 0);
  // the devices agree: each farm's slice grew to its final size, never past it
  std::map<std::string, std::uint64_t> largest;
  for (const auto& e : runtime::read_sim_log(w.db()))
    if (e.outcome.ok() && (e.action.op == runtime::Op::grow || e.action.op == runtime::Op::allocate))
      largest[e.action.farm] = std::max(largest[e.action.farm], e.action.size_mb);
  for (int c = 0; c < kClients; ++c) CHECK(largest[fmt::format("farm{}", c)] == 1024 + kOrders);
}

TEST_CASE("service: killed with kill -9 in the middle of an order, restarted, the order completes once",
          "[service]") {
  ServiceWorld w;
  std::string acme = w.create_account("acme", "customer-admin");
  w.start_serve({}, {{"FARMCTL_SIM_LATENCY", "allocate=3000,*=0"}});
  Api a = w.api(acme);
  std::int64_t id = submit(a, order("allocate-storage", {{"name", "vault"}, {"size", "4GB"}}));
  // in flight: the order is open and its allocate journalled but not finished
  REQUIRE(ServiceWorld::wait_until(
      [&] { return w.count("SELECT COUNT(*) FROM journal WHERE status = 'intent'") > 0; }, 20s));
  CHECK(a.get(fmt::format("/v1/work-orders/{}", id)).json["state"] == "open");
  int status = w.serve().kill9();
  REQUIRE(WIFSIGNALED(status));
  CHECK(WTERMSIG(status) == SIGKILL);
  CHECK(w.count(fmt::format("SELECT COUNT(*) FROM work_orders WHERE id = {} AND state = 'open'", id)) == 1);

  w.start_serve();
  Json done = settle(a, id);
  INFO(done.dump(2) << w.log_text());
  REQUIRE(done["state"] == "closed");
  REQUIRE(ServiceWorld::wait_until([&] { return ready_at_head(a, "acme-storage"); }));
  CHECK(w.count(fmt::format("SELECT COUNT(*) FROM billable_events WHERE work_order_id = {}", id)) == 1);
  CHECK(w.count("SELECT COUNT(*) FROM farm_revisions WHERE farm = 'acme-storage'") == 1);  // edited once
  CHECK(w.count("SELECT COUNT(*) FROM journal WHERE status = 'intent'") == 0);
  CHECK(w.count("SELECT COUNT(*) FROM volumes v JOIN farms f ON f.id = v.farm_id WHERE f.name = 'acme-storage'") ==
        1);
  std::string fml = a.get("/v1/farms/acme-storage/source").body;
  CHECK(fml.find("global-name=\"vault\"") == fml.rfind("global-name=\"vault\""));
  CHECK(w.log_text().find("journal.recovered") != std::string::npos);
  CHECK(WEXITSTATUS(w.serve().stop()) == 0);
  int allocated = 0;
  for (const auto& e : runtime::read_sim_log(w.db()))
    if (e.action.op == runtime::Op::allocate && e.outcome.ok()) ++allocated;
  CHECK(allocated >= 1);  // recovery runs the interrupted allocate again; it is idempotent
  CHECK(w.count("SELECT COUNT(*) FROM volumes WHERE origin = 'slice'") == 1);
}

TEST_CASE("service: SIGTERM lets running actions finish, starts no new ones, and a restart resumes", "[service]") {
  ServiceWorld w;
  std::string prov = w.create_account("prov", "provider-admin");
  std::string fml = "<?xml version=\"1.0\"?>\n<farm fmlversion=\"1.2\" name=\"bulk\">\n  <farm-global-disks>\n";
  for (int i = 0; i < 6; ++i) fml += fmt::format("    <global-disk global-name=\"d{}\" drivesize=\"1GB\"/>\n", i);
  fml += "  </farm-global-disks>\n</farm>\n";
  w.put_farm("bulk.fml", fml);
  w.start_serve({"--parallelism", "1"}, {{"FARMCTL_SIM_LATENCY", "allocate=700,*=0"}});
  REQUIRE(ServiceWorld::wait_until(
      [&] { return w.count("SELECT COUNT(*) FROM journal WHERE status = 'intent'") > 0; }, 20s));
  auto stopping = std::chrono::steady_clock::now();
  int status = w.serve().stop();
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  CHECK(std::chrono::steady_clock::now() - stopping < 5s);
  CHECK(w.count("SELECT COUNT(*) FROM journal WHERE status = 'intent'") == 0);  // the running one was journalled
  std::int64_t done = w.count("SELECT COUNT(*) FROM journal WHERE status = 'done'");
  CHECK(done >= 1);
  CHECK(done < 6);
  CHECK(w.log_text().find("reconcile.interrupted") != std::string::npos);

  w.start_serve();
  Api p = w.api(prov);
  REQUIRE(ServiceWorld::wait_until([&] { return ready_at_head(p, "bulk"); }));
  CHECK(w.count("SELECT COUNT(*) FROM volumes WHERE origin = 'slice'") == 6);
  CHECK(WEXITSTATUS(w.serve().stop()) == 0);
}

TEST_CASE("service: a farm file edited in --farms converges without a request", "[service]") {
  ServiceWorld w;
  std::string prov = w.create_account("prov", "provider-admin");
  fs::path farms = w.dir() / "farms";
  fs::create_directories(farms);
  w.write("farms/media.fml", storage_farm("media", "1GB"));
  w.start_serve({"--farms", farms.string()});
  Api p = w.api(prov);
  REQUIRE(ServiceWorld::wait_until([&] { return ready_at_head(p, "media"); }));
  CHECK(volume_size(farm(p, "media"), "global/data") == 1024);

  // edit (write a new file, rename over the old: the service never reads half a file)
  w.write("farms/media.fml.tmp", storage_farm("media", "3GB"));
  fs::rename(farms / "media.fml.tmp", farms / "media.fml");
  REQUIRE(ServiceWorld::wait_until([&] { return farm(p, "media")["revision"] == 2 && ready_at_head(p, "media"); }));
  CHECK(volume_size(farm(p, "media"), "global/data") == 3072);

  // a broken edit is logged and the farm keeps its last good revision
  w.write("farms/media.fml", "<farm fmlversion=\"1.2\" name=\"media\"><global-disk/></farm>");
  REQUIRE(ServiceWorld::wait_until([&] { return w.log_text().find("farm_file.invalid") != std::string::npos; }));
  CHECK(farm(p, "media")["revision"] == 2);
  CHECK(farm(p, "media")["status"]["status"] == "Ready");
  // and work orders do not edit a file's farm behind the file's back
  CHECK(p.post("/v1/work-orders", order("grow-disk", {{"farm", "media"}, {"disk", "data"}, {"size", "9GB"}})).status ==
        409);
}

TEST_CASE("service: a failing device makes its farm back off while another converges", "[service]") {
  ServiceWorld w;
  std::string prov = w.create_account("prov", "provider-admin");
  w.put_farm("slow.fml", storage_farm("slow", "2GB", "performance"));  // lands on sym2
  w.put_farm("fast.fml", storage_farm("fast", "2GB"));                 // lands on sym1
  w.start_serve({}, {{"FARMCTL_SIM_FAULTS", "allocate@sym2=permanent"}});
  Api p = w.api(prov);
  REQUIRE(ServiceWorld::wait_until([&] { return ready_at_head(p, "fast"); }));
  REQUIRE(ServiceWorld::wait_until([&] { return failures(p, "slow") >= 4; }));
  Json slow = farm(p, "slow")["status"];
  CHECK(slow["status"] == "Failed");
  CHECK(slow["reason"] == "ApplyFailed");
  CHECK(slow["message"].get<std::string>().find("sym2") != std::string::npos);
  CHECK(slow["next_attempt_at"].is_string());

  // the waits double (100, 200, 400, 800 ms) and stop at --backoff-max 1s
  std::vector<long> waits;
  std::istringstream log(w.log_text());
  std::string line;
  while (std::getline(log, line)) {
    Json j = Json::parse(line, nullptr, false);
    if (!j.is_discarded() && j["event"] == "reconcile.failed" && j["farm"] == "slow")
      waits.push_back(j["retry_in_ms"].get<long>());
  }
  REQUIRE(waits.size() >= 4);
  CHECK(std::vector<long>(waits.begin(), waits.begin() + 4) == std::vector<long>{100, 200, 400, 800});

  // meanwhile the other farm takes a change at once
  CHECK(p.put_raw("/v1/farms/fast", storage_farm("fast", "5GB")).status == 200);
  REQUIRE(ServiceWorld::wait_until([&] { return ready_at_head(p, "fast"); }, 10s));
  CHECK(volume_size(farm(p, "fast"), "global/data") == 5120);
  REQUIRE(ServiceWorld::wait_until([&] { return failures(p, "slow") >= 6; }));
  std::vector<long> later;
  std::istringstream log2(w.log_text());
  while (std::getline(log2, line)) {
    Json j = Json::parse(line, nullptr, false);
    if (!j.is_discarded() && j["event"] == "reconcile.failed" && j["farm"] == "slow")
      later.push_back(j["retry_in_ms"].get<long>());
  }
  CHECK(later.back() == 1000);
  CHECK(farm(p, "slow")["status"]["status"] == "Failed");
  CHECK(WEXITSTATUS(w.serve().stop()) == 0);
}

// ---- the pure parts ------------------------------------------------------------

TEST_CASE("service: backoff doubles from the first wait up to the cap", "[service]") {
  service::BackoffPolicy b{std::chrono::milliseconds(100), std::chrono::milliseconds(1000)};
  CHECK(b.delay(0).count() == 0);
  CHECK(b.delay(1).count() == 100);
  CHECK(b.delay(2).count() == 200);
  CHECK(b.delay(4).count() == 800);
  CHECK(b.delay(5).count() == 1000);
  CHECK(b.delay(500).count() == 1000);
}

TEST_CASE("service: tokens match only themselves", "[service]") {
  service::IssuedToken t = service::issue_token(42);
  CHECK(t.token.starts_with("fct_42_"));
  auto parts = service::parse_token(t.token);
  REQUIRE(parts);
  CHECK(parts->account_id == 42);
  CHECK(service::token_matches(*parts, t.salt_hex, t.hash_hex));
  service::IssuedToken other = service::issue_token(42);
  CHECK_FALSE(service::token_matches(*parts, other.salt_hex, other.hash_hex));
  CHECK_FALSE(service::parse_token("fct_42_abc"));
  CHECK_FALSE(service::parse_token("fct_-1_" + std::string(64, 'a')));
  CHECK_FALSE(service::parse_token("Bearer x"));
}

TEST_CASE("service: FML edits change only what they must", "[service]") {
  std::string text = web_farm("web", 1);
  auto source = service::FarmSource::parse(text, "web");
  // grow: one attribute value
  std::string grown = source->with_disk_size(*source->volume("data"), 2048);
  CHECK(grown == std::string(text).replace(text.find("drivesize=\"1GB\""), 15, "drivesize=\"2GB\""));
  // scale: the text of <init-servers>
  std::string scaled = source->with_tier_servers(*source->tier("web"), 3);
  CHECK(scaled == std::string(text).replace(text.find("<init-servers>1<"), 16, "<init-servers>3<"));
  // a new global disk goes last in <farm-global-disks>, indented like its siblings
  std::string added = source->with_global_disk("logs", 1536, "", std::string("1"));
  CHECK(added.find("    <global-disk global-name=\"data\" drivesize=\"1GB\" drivetype=\"std\"/>\n"
                   "    <global-disk global-name=\"logs\" drivesize=\"1536MB\">\n"
                   "      <attribute name=\"raid-level\" value=\"1\"/>\n"
                   "    </global-disk>\n"
                   "  </farm-global-disks>") != std::string::npos);
  auto reparsed = service::FarmSource::parse(added, "web");
  CHECK(reparsed->volume("global/logs")->size_mb == 1536);
  // a shared disk goes last in its server-role
  std::string shared = source->with_shared_disk(*source->role_of_server("web-0"), "data", 1, "iscsi");
  CHECK(shared.find("    <disk target=\"0\" drivetype=\"iscsi\" drivesize=\"1GB\"/>\n"
                    "    <shared-disk global-name=\"data\" target=\"1\" drivetype=\"iscsi\"/>\n"
                    "  </server-role>") != std::string::npos);
  CHECK(service::FarmSource::parse(shared, "web")->plan().exports.size() == 2);
  // a farm without <farm-global-disks> gets one
  std::string bare = "<farm fmlversion=\"1.2\" name=\"bare\">\n</farm>\n";
  std::string with_disk = service::FarmSource::parse(bare, "bare")->with_global_disk("d", 100, "std", std::nullopt);
  CHECK(with_disk == "<farm fmlversion=\"1.2\" name=\"bare\">\n  <farm-global-disks>\n    <global-disk "
                     "global-name=\"d\" drivesize=\"100MB\" drivetype=\"std\"/>\n  </farm-global-disks>\n</farm>\n");
  // FML 1.1 has no global disks
  auto old = service::FarmSource::parse("<farm fmlversion=\"1.1\" name=\"old\"/>", "old");
  CHECK_THROWS_AS(old->with_global_disk("d", 100, "", std::nullopt), service::FarmEditError);
}

TEST_CASE("service: a mail order becomes a work-order request", "[service]") {
  service::MailOrder m = service::read_mail_order(
      "From: ops@example.com\nSubject: Fwd: Scale tier\nContent-Type: multipart/alternative; boundary=\"b1\"\n\n"
      "--b1\nContent-Type: text/html\n\n<p>farm: x</p>\n--b1\nContent-Type: text/plain\n"
      "Content-Transfer-Encoding: quoted-printable\n\nfarm: web=\n-prod\n> quoted: ignored\ntier: web\nservers: 3\n--b1--\n");
  CHECK(m.request["type"] == "scale-tier");
  CHECK(m.request["parameters"] == Json{{"farm", "web-prod"}, {"tier", "web"}, {"servers", "3"}});
  CHECK_THROWS_WITH(service::read_mail_order("From: a@b\nSubject: grow-disk\n\nfarm web\n"),
                    Catch::Contains("body line 1: 'farm web' is not 'key: value'"));
  CHECK_THROWS_WITH(service::read_mail_order("Subject: grow-disk\n\nfarm: web\n"), Catch::Contains("no From"));
}

}  // namespace farmctl::testing
