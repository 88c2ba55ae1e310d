#include "core/subprocess.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

extern char** environ;

namespace cutroom {

Status RunProcess(const std::vector<std::string>& argv, std::string* output) {
  if (argv.empty()) return Status::InvalidArgument("empty command");
  int pipefd[2];
  if (::pipe2(pipefd, O_CLOEXEC) != 0) return Status::IOError(std::string("pipe: ") + std::strerror(errno));

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, pipefd[1], 1);
  posix_spawn_file_actions_adddup2(&actions, pipefd[1], 2);

  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = 0;
  int rc = posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(pipefd[1]);
  if (rc != 0) {
    ::close(pipefd[0]);
    if (rc == ENOENT) return Status::NotFound(argv[0] + " is not installed (run scripts/install-deps.sh)");
    return Status::Internal("cannot start " + argv[0] + ": " + std::strerror(rc));
  }
  std::string out;
  char buf[4096];
  while (true) {
    ssize_t n = ::read(pipefd[0], buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
    if (out.size() > (1 << 20)) out.erase(0, out.size() - (1 << 19));  // keep the tail only
  }
  ::close(pipefd[0]);
  int wstatus = 0;
  while (::waitpid(pid, &wstatus, 0) < 0 && errno == EINTR) {
  }
  if (output) *output = out;
  if (WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 0) return Status::Ok();
  std::string tail = out.size() > 1500 ? out.substr(out.size() - 1500) : out;
  std::string how = WIFEXITED(wstatus) ? "exited with " + std::to_string(WEXITSTATUS(wstatus))
                                       : "was killed by signal " + std::to_string(WTERMSIG(wstatus));
  return Status::Internal(argv[0] + " " + how + ":\n" + tail);
}

}  // namespace cutroom
