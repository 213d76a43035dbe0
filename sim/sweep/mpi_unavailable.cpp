// start_distribution for a build without MPI (CMake option MESHSIM_MPI off, or no MPI found; the
// MPI build compiles sim/sweep/mpi_distribution.cpp instead). Started by mpirun anyway, each rank
// would run the whole command and print it: every rank refuses instead, with one line from rank 0
// (the rank the launcher's environment names) and exit code 2.
#include <cstdio>

#include "common/error.hpp"
#include "sim/sweep/distribution.hpp"

namespace meshsim::sweep {
namespace {

class WithoutMpi final : public Distribution {
 public:
  explicit WithoutMpi(const Launch& launch) : launch_(launch) {}
  int rank() const override { return launch_.rank; }
  int size() const override { return launch_.size; }
  Evaluation evaluate(const WorkItems&) override {
    throw InputError({"mpirun", "", ""},
                     "this meshsim was built without MPI, so its processes cannot share a sweep",
                     std::to_string(launch_.size) + " processes",
                     "run it without mpirun, or rebuild with MPI (apt-get install libopenmpi-dev "
                     "openmpi-bin; CMake option MESHSIM_MPI=ON)");
  }
  int conclude(int code, const std::string& message) override {
    if (launch_.rank == 0 && !message.empty())
      std::fprintf(stderr, "%s\n", message.c_str());
    return code;
  }

 private:
  Launch launch_;
};

}  // namespace

std::unique_ptr<Distribution> start_distribution(int*, char***) {
  const Launch launch = mpi_launch();
  if (launch.by_mpi && launch.size > 1)
    return std::make_unique<WithoutMpi>(launch);
  return std::make_unique<LocalDistribution>();
}

}  // namespace meshsim::sweep
