// The MPI distribution (docs/sweep.md "Across machines (MPI)"); built when CMake finds MPI and
// MESHSIM_MPI is on (else sim/sweep/mpi_unavailable.cpp provides start_distribution).
//
// Every rank runs the same command on the same inputs, so every rank builds the same work items.
// Rank 0 hands out positions one at a time on request (dynamic load balancing: a rank that
// finishes early asks again), prunes with every result it has received (sim/sweep/distribution.hpp
// Dispatcher, the rule of the threaded sweep), and simulates on its own threads too. When nothing
// is left, rank 0 sends every outcome to every rank, so the command goes on identically everywhere
// and only rank 0 writes.
//
// Only the main thread of a rank calls MPI (MPI_THREAD_FUNNELED): worker threads hand requests to
// it and wait for their answers. Waiting polls with short sleeps rather than blocking in MPI, which
// would spin a core that a simulation could use.
//
// Agreement: every collective step starts with one all-reduce of each rank's status, and the
// end of the command (conclude) is the same Allreduce, so a rank that fails anywhere before a step
// meets the others there: all stop, with the exit code of the lowest failing rank, whose message
// rank 0 prints. Nothing hangs on a rank that failed.
#include <mpi.h>

#include <chrono>
#include <climits>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <deque>
#include <stdexcept>
#include <thread>

#include "common/error.hpp"
#include "sim/sweep/distribution.hpp"
#include "sim/sweep/result_codec.hpp"

namespace meshsim::sweep {
namespace {

constexpr int kTagRequest = 1;  // worker rank -> rank 0: [slot][has result][position][outcome]
constexpr int kTagAssign = 2;   // rank 0 -> worker rank: [slot][position, or kStop]
constexpr int kTagMessage = 3;  // failing rank -> rank 0: its error line
constexpr std::uint64_t kStop = ~std::uint64_t{0};
constexpr auto kPoll = std::chrono::microseconds(300);

// Thrown on every rank whose collective step learns that another rank failed; conclude() then
// reports that rank's failure, not this.
class PeerFailure : public std::runtime_error {
 public:
  PeerFailure() : std::runtime_error("another rank failed") {}
};

std::uint64_t fnv1a(std::uint64_t h, const void* data, std::size_t n) {
  const auto* p = static_cast<const unsigned char*>(data);
  for (std::size_t i = 0; i < n; ++i) {
    h ^= p[i];
    h *= 1099511628211ull;
  }
  return h;
}

// What every rank must agree on: the items (their labels and bounds) and the pruning depth.
std::uint64_t fingerprint(const WorkItems& items) {
  std::uint64_t h = 14695981039346656037ull;
  const std::uint64_t count = items.count;
  h = fnv1a(h, &count, sizeof count);
  h = fnv1a(h, &items.top, sizeof items.top);
  for (const double b : items.bound)
    h = fnv1a(h, &b, sizeof b);
  for (const auto& label : items.labels) {
    const std::uint64_t n = label.size();
    h = fnv1a(h, &n, sizeof n);
    h = fnv1a(h, label.data(), label.size());
  }
  return h;
}

// The protocol broke (a malformed message, an MPI error): no rank can go on safely.
[[noreturn]] void abort_job(MPI_Comm comm, const char* what) {
  std::fprintf(stderr, "meshsim: internal error: MPI sweep: %s\n", what);
  std::fflush(stderr);
  MPI_Abort(comm, 1);
  std::abort();
}

void send_bytes(const std::string& bytes, int dest, int tag, MPI_Comm comm) {
  if (bytes.size() > static_cast<std::size_t>(INT_MAX))
    throw std::runtime_error("message over 2 GiB");
  MPI_Send(bytes.data(), static_cast<int>(bytes.size()), MPI_BYTE, dest, tag, comm);
}

// Waits for a nonblocking collective by polling with sleeps: a rank that is done waits for the
// others without spinning a core (blocking MPI calls busy-poll).
void wait_for(MPI_Request& request) {
  for (;;) {
    int done = 0;
    MPI_Test(&request, &done, MPI_STATUS_IGNORE);
    if (done)
      return;
    std::this_thread::sleep_for(kPoll);
  }
}

// Receives the message whose envelope `status` describes.
std::string receive_probed(const MPI_Status& status, MPI_Comm comm) {
  int count = 0;
  MPI_Get_count(&status, MPI_BYTE, &count);
  std::string bytes(static_cast<std::size_t>(count), '\0');
  MPI_Recv(bytes.data(), count, MPI_BYTE, status.MPI_SOURCE, status.MPI_TAG, comm,
           MPI_STATUS_IGNORE);
  return bytes;
}

// A worker's request for more work, carrying the outcome of position `pos`.
ByteWriter result_request(std::uint64_t slot, std::uint64_t pos, const ItemOutcome& outcome) {
  ByteWriter w;
  w.u64(slot);
  w.u8(1);
  w.u64(pos);
  try {
    ByteWriter encoded;
    encode_outcome(encoded, outcome);
    w.append(encoded);
  } catch (const std::exception& e) {
    ItemOutcome failed;  // cannot be encoded (never expected): it travels as a failure
    failed.state = ItemOutcome::State::Failed;
    failed.error = std::make_exception_ptr(std::runtime_error(e.what()));
    encode_outcome(w, failed);
  }
  return w;
}

class MpiDistribution final : public Distribution {
 public:
  MpiDistribution() {
    MPI_Comm_dup(MPI_COMM_WORLD, &comm_);
    MPI_Comm_rank(comm_, &rank_);
    MPI_Comm_size(comm_, &size_);
  }
  ~MpiDistribution() override {
    int finalized = 0;
    MPI_Finalized(&finalized);
    if (!finalized)
      MPI_Finalize();
  }
  int rank() const override { return rank_; }
  int size() const override { return size_; }

  Evaluation evaluate(const WorkItems& items) override {
    if (size_ == 1)
      return evaluate_locally(items);
    checkpoint();
    check_same_items(items);
    // Each rank's simulation threads (each may have its own -j).
    const int threads = std::max(1, items.threads);
    std::vector<int> slots(static_cast<std::size_t>(size_), 0);
    MPI_Request request;
    MPI_Igather(&threads, 1, MPI_INT, slots.data(), 1, MPI_INT, 0, comm_, &request);
    wait_for(request);
    Evaluation evaluation;
    std::string bytes;
    try {
      if (rank_ == 0) {
        evaluation = run_root(items, slots);
        bytes = encode_evaluation(evaluation);
      } else {
        run_worker(items, threads);
      }
    } catch (const std::exception& e) {
      abort_job(comm_, e.what());
    }
    // Every outcome to every rank.
    std::uint64_t n = bytes.size();
    MPI_Ibcast(&n, 1, MPI_UINT64_T, 0, comm_, &request);
    wait_for(request);
    if (n > static_cast<std::uint64_t>(INT_MAX))
      abort_job(comm_, "outcomes over 2 GiB");
    bytes.resize(static_cast<std::size_t>(n));
    MPI_Ibcast(bytes.data(), static_cast<int>(n), MPI_BYTE, 0, comm_, &request);
    wait_for(request);
    if (rank_ == 0)
      return evaluation;
    try {
      return decode_evaluation(bytes);
    } catch (const std::exception& e) {
      abort_job(comm_, e.what());
    }
  }

  int conclude(int code, const std::string& message) override {
    const Agreement a = failed_ ? failure_ : agree(code);
    int result = 0;
    if (a.failed) {
      result = a.code;
      if (rank_ == a.rank && rank_ != 0)
        send_bytes(message, 0, kTagMessage, comm_);
      if (rank_ == 0) {
        std::string line = message;
        if (a.rank != 0) {
          MPI_Status status;
          int flag = 0;
          for (;;) {
            MPI_Iprobe(a.rank, kTagMessage, comm_, &flag, &status);
            if (flag)
              break;
            std::this_thread::sleep_for(kPoll);
          }
          line = receive_probed(status, comm_);
        }
        if (!line.empty())
          std::fprintf(stderr, "%s\n", line.c_str());
      }
    }
    MPI_Comm_free(&comm_);
    MPI_Finalize();
    return result;
  }

 private:
  struct Agreement {
    bool failed = false;
    int rank = 0;
    int code = 0;
  };

  // One Allreduce: the lowest failing rank and its exit code (0, 1 or 2), or none.
  Agreement agree(int code) {
    const int mine = code != 0 ? rank_ * 4 + std::min(code, 3) : INT_MAX;
    int lowest = INT_MAX;
    MPI_Request request;
    MPI_Iallreduce(&mine, &lowest, 1, MPI_INT, MPI_MIN, comm_, &request);
    wait_for(request);
    Agreement a;
    if (lowest != INT_MAX) {
      a.failed = true;
      a.rank = lowest / 4;
      a.code = lowest % 4;
    }
    return a;
  }

  void checkpoint() {
    const Agreement a = agree(0);
    if (a.failed) {
      failed_ = true;
      failure_ = a;
      throw PeerFailure();
    }
  }

  // Every rank must have built the same items: a rank given other arguments or other files would
  // otherwise return outcomes of different plans under the same positions.
  void check_same_items(const WorkItems& items) {
    const std::uint64_t fp = fingerprint(items);
    const std::uint64_t mine[2] = {fp, ~fp};
    std::uint64_t most[2] = {0, 0};
    MPI_Request request;
    MPI_Iallreduce(mine, most, 2, MPI_UINT64_T, MPI_MAX, comm_, &request);
    wait_for(request);
    // Equal on every rank iff the largest and the smallest fingerprints are this one.
    if (most[0] != fp || most[1] != ~fp) {
      throw InputError({"mpirun", "", ""},
                       "the ranks were given different work: not the same arguments, or not the "
                       "same model or hardware files on every node",
                       std::to_string(size_) + " ranks",
                       "the same command line and files on every rank");
    }
  }

  Evaluation run_root(const WorkItems& items, const std::vector<int>& slots) {
    Dispatcher dispatcher(items);
    auto worker = [&] {
      while (const auto pos = dispatcher.next())
        dispatcher.complete(*pos, run_item(items, *pos));
    };
    std::vector<std::thread> pool;
    for (int i = 0; i < slots[0]; ++i)
      pool.emplace_back(worker);
    std::int64_t remote = 0;  // remote slots not yet told to stop
    for (std::size_t r = 1; r < slots.size(); ++r)
      remote += slots[r];
    std::string error;
    try {
      while (remote > 0) {
        int flag = 0;
        MPI_Status status;
        MPI_Iprobe(MPI_ANY_SOURCE, kTagRequest, comm_, &flag, &status);
        if (!flag) {
          std::this_thread::sleep_for(kPoll);
          continue;
        }
        const std::string request = receive_probed(status, comm_);
        ByteReader in(request);
        const std::uint64_t slot = in.u64();
        if (in.u8() != 0) {
          const std::uint64_t pos = in.u64();
          if (pos >= items.count)
            throw std::runtime_error("a result for a position that does not exist");
          dispatcher.complete(static_cast<std::size_t>(pos), decode_outcome(in));
        }
        const auto next = dispatcher.next();
        ByteWriter out;
        out.u64(slot);
        out.u64(next ? static_cast<std::uint64_t>(*next) : kStop);
        send_bytes(out.bytes(), status.MPI_SOURCE, kTagAssign, comm_);
        if (!next)
          --remote;
      }
    } catch (const std::exception& e) {
      error = e.what();
    }
    for (auto& th : pool)
      th.join();
    if (!error.empty())
      throw std::runtime_error(error);
    return dispatcher.take();
  }

  void run_worker(const WorkItems& items, int threads) {
    std::mutex mutex;
    std::condition_variable answered;
    std::deque<std::string> outbox;
    std::vector<std::uint64_t> mailbox(static_cast<std::size_t>(threads), 0);
    std::vector<bool> has_mail(static_cast<std::size_t>(threads), false);
    auto worker = [&](std::size_t slot) {
      ByteWriter request;
      request.u64(slot);
      request.u8(0);
      for (;;) {
        std::uint64_t pos = 0;
        {
          std::unique_lock<std::mutex> lock(mutex);
          outbox.push_back(request.take());
          answered.wait(lock, [&] { return has_mail[slot]; });
          has_mail[slot] = false;
          pos = mailbox[slot];
        }
        if (pos == kStop)
          return;
        const ItemOutcome outcome = run_item(items, static_cast<std::size_t>(pos));
        request = result_request(slot, pos, outcome);
      }
    };
    std::vector<std::thread> pool;
    for (int i = 0; i < threads; ++i)
      pool.emplace_back(worker, static_cast<std::size_t>(i));
    int active = threads;
    std::string error;
    try {
      while (active > 0) {
        bool idle = true;
        std::deque<std::string> sending;
        {
          std::lock_guard<std::mutex> lock(mutex);
          sending.swap(outbox);
        }
        for (const auto& bytes : sending) {
          send_bytes(bytes, 0, kTagRequest, comm_);
          idle = false;
        }
        int flag = 0;
        MPI_Status status;
        MPI_Iprobe(0, kTagAssign, comm_, &flag, &status);
        if (flag) {
          const std::string answer = receive_probed(status, comm_);
          ByteReader in(answer);
          const std::uint64_t slot = in.u64();
          const std::uint64_t pos = in.u64();
          if (slot >= static_cast<std::uint64_t>(threads) || (pos != kStop && pos >= items.count))
            throw std::runtime_error("an assignment that does not exist");
          {
            std::lock_guard<std::mutex> lock(mutex);
            mailbox[slot] = pos;
            has_mail[slot] = true;
          }
          answered.notify_all();
          if (pos == kStop)
            --active;
          idle = false;
        }
        if (idle)
          std::this_thread::sleep_for(kPoll);
      }
    } catch (const std::exception& e) {
      error = e.what();
    }
    if (!error.empty())
      abort_job(comm_, error.c_str());  // worker threads wait for answers that will not come
    for (auto& th : pool)
      th.join();
  }

  MPI_Comm comm_ = MPI_COMM_NULL;
  int rank_ = 0, size_ = 1;
  bool failed_ = false;
  Agreement failure_;
};

}  // namespace

std::unique_ptr<Distribution> start_distribution(int* argc, char*** argv) {
  if (!mpi_launch().by_mpi)
    return std::make_unique<LocalDistribution>();  // the single-process path: no MPI at all
  int provided = 0;
  MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided);
  return std::make_unique<MpiDistribution>();
}

}  // namespace meshsim::sweep
