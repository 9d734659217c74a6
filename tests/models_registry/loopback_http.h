// A minimal HTTP/1.0 server on 127.0.0.1 for the model-fetch tests: serves fixed bodies
// from memory on one background thread, answers 404 for anything else.
//
// Contract: start() binds an ephemeral loopback port (nothing outside the machine can
// reach it) and returns at once; the destructor stops the thread and closes the socket.
// serve() may be called before or while the server runs (guarded by a mutex).
#pragma once

#include <atomic>
#include <map>
#include <mutex>
#include <string>
#include <thread>

namespace upscaled::test {

class LoopbackHttpServer {
 public:
  LoopbackHttpServer();
  ~LoopbackHttpServer();
  LoopbackHttpServer(const LoopbackHttpServer&) = delete;
  LoopbackHttpServer& operator=(const LoopbackHttpServer&) = delete;

  void serve(const std::string& path, std::string body);  // path like "/x.pth"
  std::string base_url() const;                           // "http://127.0.0.1:PORT"
  int requests() const { return requests_.load(); }

 private:
  void loop();
  void handle(int client);

  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> requests_{0};
  std::mutex mutex_;
  std::map<std::string, std::string> bodies_;
  std::thread thread_;
};

}  // namespace upscaled::test
