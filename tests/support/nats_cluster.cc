#include "tests/support/nats_cluster.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <cassert>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <map>
#include <optional>
#include <string_view>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "tests/support/files.h"
#include "tests/support/http_client.h"

namespace sbd::testing {
namespace {

using Clock = std::chrono::steady_clock;
constexpr std::chrono::milliseconds kPollInterval{100};
// One monitoring request; a server that does not answer in this long is
// treated as not answering (it is polled again).
constexpr std::chrono::milliseconds kHttpTimeout{2000};

// `count` distinct free ports on 127.0.0.1. All are bound at once, so none
// repeats; they are released for the servers to take right after (a
// socket that never listened leaves no TIME_WAIT behind).
absl::StatusOr<std::vector<uint16_t>> FreeLoopbackPorts(int count) {
  std::vector<int> fds;
  std::vector<uint16_t> ports;
  absl::Status status;
  for (int n = 0; n < count && status.ok(); ++n) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
      status = absl::InternalError(absl::StrCat("socket: ", std::strerror(errno)));
      break;
    }
    fds.push_back(fd);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = 0;
    socklen_t length = sizeof(address);
    if (bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0 ||
        getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
      status = absl::InternalError(absl::StrCat("bind 127.0.0.1:0: ", std::strerror(errno)));
      break;
    }
    ports.push_back(ntohs(address.sin_port));
  }
  for (int fd : fds) close(fd);
  if (!status.ok()) return status;
  return ports;
}

// The JSON answer of GET `target` on 127.0.0.1:`port`, if it answered 200.
std::optional<boost::json::value> GetJson(uint16_t port, const std::string& target) {
  HttpClient client(port, kHttpTimeout);
  absl::StatusOr<HttpResponse> response = client.Get(target);
  if (!response.ok() || response->status != 200) return std::nullopt;
  boost::json::value json = response->Json();
  if (json.is_null()) return std::nullopt;
  return json;
}

// The string at `object`.`key`, "" if there is none.
std::string StringMember(const boost::json::value& value, std::string_view key) {
  const boost::json::object* object = value.if_object();
  if (object == nullptr) return "";
  const boost::json::value* member = object->if_contains(key);
  if (member == nullptr || !member->is_string()) return "";
  return std::string(member->get_string());
}

// The member `key` of `value` if it is an array, else an empty array.
const boost::json::array& ArrayMember(const boost::json::value& value, std::string_view key) {
  static const boost::json::array kEmpty;
  const boost::json::object* object = value.if_object();
  const boost::json::value* member = object == nullptr ? nullptr : object->if_contains(key);
  return member != nullptr && member->is_array() ? member->get_array() : kEmpty;
}

}  // namespace

const char* NatsServerBinaryPath() { return SBD_NATS_SERVER_BINARY; }

absl::StatusOr<std::unique_ptr<NatsCluster>> NatsCluster::Start(const std::string& dir,
                                                                int servers) {
  assert(servers > 0);
  if (access(NatsServerBinaryPath(), X_OK) != 0) {
    return absl::FailedPreconditionError(absl::StrCat(
        NatsServerBinaryPath(),
        " is not executable (Debian: apt-get install nats-server): ", std::strerror(errno)));
  }
  absl::StatusOr<std::vector<uint16_t>> ports = FreeLoopbackPorts(3 * servers);
  if (!ports.ok()) return ports.status();
  std::vector<Server> list(servers);
  for (int i = 0; i < servers; ++i) {
    Server& server = list[i];
    server.name = absl::StrCat("n", i);
    server.client_port = (*ports)[3 * i];
    server.route_port = (*ports)[3 * i + 1];
    server.http_port = (*ports)[3 * i + 2];
    server.config_path = absl::StrCat(dir, "/", server.name, ".conf");
    server.log_path = absl::StrCat(dir, "/", server.name, ".log");
  }
  // Owned from here on: a failure below returns, and the destructor kills
  // whatever was started so far.
  std::unique_ptr<NatsCluster> cluster(new NatsCluster(dir, std::move(list)));
  for (int i = 0; i < servers; ++i) {
    if (absl::Status written = cluster->WriteConfig(i); !written.ok()) return written;
  }
  for (int i = 0; i < servers; ++i) {
    if (absl::Status launched = cluster->Launch(i); !launched.ok()) return launched;
  }
  const Clock::time_point deadline = Clock::now() + kReadyTimeout;
  for (int i = 0; i < servers; ++i) {
    if (absl::Status healthy = cluster->WaitHealthy(i, deadline); !healthy.ok()) return healthy;
  }
  // Healthy servers are current with a meta leader; that a quorum names the
  // same one is what lets a stream be created right away.
  absl::StatusOr<int> meta = cluster->MetaLeader();
  if (!meta.ok()) return meta.status();
  return cluster;
}

NatsCluster::NatsCluster(std::string dir, std::vector<Server> servers)
    : dir_(std::move(dir)), servers_(std::move(servers)) {}

NatsCluster::~NatsCluster() {
  for (int i = 0; i < size(); ++i) Kill(i);
}

std::string NatsCluster::Name(int i) const { return servers_.at(i).name; }

std::string NatsCluster::ClientUrl(int i) const {
  return absl::StrCat("nats://127.0.0.1:", servers_.at(i).client_port);
}

std::string NatsCluster::ClientUrls() const {
  std::vector<std::string> urls;
  for (int i = 0; i < size(); ++i) urls.push_back(ClientUrl(i));
  return absl::StrJoin(urls, ",");
}

std::string NatsCluster::LogPath(int i) const { return servers_.at(i).log_path; }

std::string NatsCluster::LogTail(int i) const {
  constexpr size_t kTailBytes = 3000;
  std::string log = ReadWholeFile(LogPath(i));
  return log.size() <= kTailBytes ? log : absl::StrCat("...", log.substr(log.size() - kTailBytes));
}

bool NatsCluster::Running(int i) const {
  const Server& server = servers_.at(i);
  if (server.pid <= 0) return false;
  // WNOWAIT: look without reaping, so that Kill still owns the pid (and no
  // other process can be given it meanwhile).
  siginfo_t info{};
  if (waitid(P_PID, server.pid, &info, WEXITED | WNOHANG | WNOWAIT) != 0) return false;
  return info.si_pid == 0;
}

void NatsCluster::Kill(int i) {
  Server& server = servers_.at(i);
  if (server.pid <= 0) return;
  kill(server.pid, SIGKILL);  // Also ends a stopped process.
  int status = 0;
  while (waitpid(server.pid, &status, 0) < 0 && errno == EINTR) {
  }
  server.pid = -1;
  server.paused = false;
}

void NatsCluster::Pause(int i) {
  Server& server = servers_.at(i);
  assert(Running(i) && !server.paused);
  kill(server.pid, SIGSTOP);
  int status = 0;
  while (waitpid(server.pid, &status, WUNTRACED) < 0 && errno == EINTR) {
  }
  if (WIFSTOPPED(status)) {
    server.paused = true;
  } else {
    server.pid = -1;  // It died instead, and waitpid reaped it.
  }
}

void NatsCluster::Resume(int i) {
  Server& server = servers_.at(i);
  assert(server.pid > 0 && server.paused);
  kill(server.pid, SIGCONT);
  int status = 0;
  while (waitpid(server.pid, &status, WCONTINUED) < 0 && errno == EINTR) {
  }
  if (!WIFCONTINUED(status)) server.pid = -1;  // It died instead, and waitpid reaped it.
  server.paused = false;
}

absl::Status NatsCluster::Restart(int i) {
  Kill(i);
  if (absl::Status launched = Launch(i); !launched.ok()) return launched;
  return WaitHealthy(i, Clock::now() + kReadyTimeout);
}

absl::StatusOr<int> NatsCluster::MetaLeader() {
  return AgreedLeader("JetStream meta", "/jsz", [](const boost::json::value& jsz) {
    const boost::json::object* object = jsz.if_object();
    const boost::json::value* meta =
        object == nullptr ? nullptr : object->if_contains("meta_cluster");
    return meta == nullptr ? std::string() : StringMember(*meta, "leader");
  });
}

absl::StatusOr<int> NatsCluster::StreamLeader(const std::string& stream) {
  // 2.9's /jsz lists streams per account: account_details[].stream_detail[]
  // with {"name": ..., "cluster": {"leader": ...}}.
  return AgreedLeader(
      absl::StrCat("stream ", stream), "/jsz?accounts=true&streams=true",
      [&stream](const boost::json::value& jsz) {
        for (const boost::json::value& account : ArrayMember(jsz, "account_details")) {
          for (const boost::json::value& detail : ArrayMember(account, "stream_detail")) {
            if (StringMember(detail, "name") != stream) continue;
            const boost::json::object* object = detail.if_object();
            const boost::json::value* cluster =
                object == nullptr ? nullptr : object->if_contains("cluster");
            return cluster == nullptr ? std::string() : StringMember(*cluster, "leader");
          }
        }
        return std::string();
      });
}

absl::StatusOr<int> NatsCluster::AgreedLeader(const std::string& what,
                                              const std::string& jsz_target,
                                              const LeaderOf& leader_of) {
  const int quorum = size() / 2 + 1;
  const Clock::time_point deadline = Clock::now() + kReadyTimeout;
  std::vector<std::string> views(size());  // What each server said last.
  while (true) {
    std::map<std::string, int> votes;
    for (int i = 0; i < size(); ++i) {
      views[i] = "(not running)";
      if (!Running(i)) continue;
      views[i] = "(paused)";
      if (servers_[i].paused) continue;  // It would not answer.
      std::optional<boost::json::value> jsz = GetJson(servers_[i].http_port, jsz_target);
      views[i] = jsz ? leader_of(*jsz) : "(no answer)";
      if (jsz && !views[i].empty()) ++votes[views[i]];
    }
    for (int i = 0; i < size(); ++i) {
      if (views[i] == Name(i) && votes[Name(i)] >= quorum) return i;
    }
    if (Clock::now() >= deadline) break;
    std::this_thread::sleep_for(kPollInterval);
  }
  std::vector<std::string> said;
  for (int i = 0; i < size(); ++i) {
    said.push_back(absl::StrCat(Name(i), ": ", views[i].empty() ? "(none)" : views[i]));
  }
  return absl::DeadlineExceededError(
      absl::StrCat("no ", what, " leader claimed by itself and named by ", quorum, " of ", size(),
                   " servers within ", kReadyTimeout.count(),
                   " s; leader per server: ", absl::StrJoin(said, ", ")));
}

absl::Status NatsCluster::WriteConfig(int i) const {
  const Server& server = servers_[i];
  std::vector<std::string> routes;
  for (const Server& other : servers_) {
    if (&other != &server) {
      routes.push_back(absl::StrCat("    \"nats-route://127.0.0.1:", other.route_port, "\""));
    }
  }
  // Route URLs one per line: the config parser does not take them
  // space-separated on one line.
  std::string config = absl::StrCat("server_name: ", server.name, "\n");
  absl::StrAppend(&config, "listen: 127.0.0.1:", server.client_port, "\n");
  absl::StrAppend(&config, "http: 127.0.0.1:", server.http_port, "\n");
  absl::StrAppend(&config, "jetstream {\n  store_dir: \"", dir_, "/", server.name, "\"\n}\n");
  absl::StrAppend(&config, "cluster {\n  name: sbd\n  listen: 127.0.0.1:", server.route_port,
                  "\n  routes: [\n", absl::StrJoin(routes, "\n"), "\n  ]\n}\n");
  std::ofstream out(server.config_path, std::ios::trunc);
  out << config;
  out.close();
  if (!out) return absl::InternalError(absl::StrCat("cannot write ", server.config_path));
  return absl::OkStatus();
}

absl::Status NatsCluster::Launch(int i) {
  Server& server = servers_[i];
  assert(server.pid <= 0);
  // Appended: after a restart the log still shows how the server died.
  std::ofstream(server.log_path, std::ios::app)
      << "==== NatsCluster: starting " << server.name << "\n";
  int log_fd = open(server.log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  int null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (log_fd < 0 || null_fd < 0) {
    int error = errno;
    if (log_fd >= 0) close(log_fd);
    if (null_fd >= 0) close(null_fd);
    return absl::InternalError(absl::StrCat("open ", server.log_path, ": ", std::strerror(error)));
  }
  std::string binary = NatsServerBinaryPath();
  std::string flag = "-c";
  std::string config = server.config_path;
  char* argv[] = {binary.data(), flag.data(), config.data(), nullptr};
  const pid_t parent = getpid();
  const pid_t pid = fork();
  if (pid == 0) {
    // Child: only async-signal-safe calls from here on.
    prctl(PR_SET_PDEATHSIG, SIGKILL);  // Never outlive a crashed test.
    if (getppid() != parent) _exit(127);
    dup2(null_fd, 0);
    dup2(log_fd, 1);
    dup2(log_fd, 2);
    execv(argv[0], argv);
    _exit(127);
  }
  const int fork_error = errno;
  close(log_fd);
  close(null_fd);
  if (pid < 0) return absl::InternalError(absl::StrCat("fork: ", std::strerror(fork_error)));
  server.pid = pid;
  server.paused = false;
  return absl::OkStatus();
}

absl::Status NatsCluster::WaitHealthy(int i, Clock::time_point deadline) {
  const Server& server = servers_[i];
  std::string last = "no answer";
  while (true) {
    if (!Running(i)) return ServerError(i, "exited while starting");
    HttpClient client(server.http_port, kHttpTimeout);
    absl::StatusOr<HttpResponse> response = client.Get("/healthz");
    if (response.ok() && response->status == 200) return absl::OkStatus();
    last = response.ok() ? absl::StrCat(response->status, " ", response->body)
                         : response.status().ToString();
    if (Clock::now() >= deadline) break;
    std::this_thread::sleep_for(kPollInterval);
  }
  return ServerError(i, absl::StrCat("JetStream not healthy after ", kReadyTimeout.count(),
                                     " s; last GET /healthz: ", last));
}

absl::Status NatsCluster::ServerError(int i, const std::string& message) const {
  return absl::UnavailableError(absl::StrCat("nats-server ", Name(i), " (", LogPath(i),
                                             "): ", message, "; log ends:\n", LogTail(i)));
}

}  // namespace sbd::testing
