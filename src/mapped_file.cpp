#include "mapped_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "tinygpt/error.h"

namespace tinygpt {

MappedFile::MappedFile(const std::string& path) {
  // O_NONBLOCK: opening a FIFO would otherwise wait for a writer forever; it is
  // refused below as not a regular file, and regular files ignore the flag.
  fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd_ < 0) throw_model_error("cannot open model file " + path + ": " + std::strerror(errno));
  // The destructor does not run for a constructor that throws: close the file first.
  auto fail = [&](const std::string& message) {
    ::close(fd_);
    throw_model_error(message);
  };
  struct stat st {};
  if (::fstat(fd_, &st) != 0) fail("cannot read model file " + path + ": " + std::strerror(errno));
  if (S_ISDIR(st.st_mode)) fail(path + " is a directory, not a model file");
  if (!S_ISREG(st.st_mode)) fail(path + " is not a regular file");
  size_ = static_cast<std::size_t>(st.st_size);
  if (size_ == 0) fail(path + " is empty, not a model file");
  void* p = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd_, 0);
  if (p == MAP_FAILED) fail("cannot map model file " + path + ": " + std::strerror(errno));
  data_ = static_cast<const char*>(p);
  ::madvise(p, size_, MADV_SEQUENTIAL);
}

MappedFile::~MappedFile() {
  if (data_) ::munmap(const_cast<char*>(data_), size_);
  if (fd_ >= 0) ::close(fd_);
}

void MappedFile::advise_reuse() { ::madvise(const_cast<char*>(data_), size_, MADV_NORMAL); }

void MappedFile::release_range(std::size_t offset, std::size_t length) {
  const std::size_t page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
  const std::size_t begin = (offset + page - 1) / page * page, end = (offset + length) / page * page;
  if (end > begin) ::madvise(const_cast<char*>(data_) + begin, end - begin, MADV_DONTNEED);
}

void MappedFile::release_before(std::size_t offset) {
  const std::size_t page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
  const std::size_t end = offset / page * page;
  if (end > released_ + 16 * page) {
    ::madvise(const_cast<char*>(data_) + released_, end - released_, MADV_DONTNEED);
    released_ = end;
  }
}

}  // namespace tinygpt
