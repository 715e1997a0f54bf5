// record.mount: a recording folder on a disk that is not mounted (a USB disk at boot, or unplugged)
// is refused before anything is created, instead of filling the system disk under the empty mount
// point. The decision through injected st_dev lookups, and check_writable_dir on a real folder.
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <string>

#include "record/record_paths.h"
#include "support/test_support.h"

namespace dw::record {
namespace {

namespace fs = std::filesystem;

// A file system layout: which paths exist and the device each is on.
struct Disks {
  std::map<std::string, std::uint64_t> devices;
  DeviceOf lookup() const {
    return [this](const std::string& path) -> std::optional<std::uint64_t> {
      const auto it = devices.find(path);
      if (it == devices.end()) return std::nullopt;
      return it->second;
    };
  }
};

constexpr std::uint64_t kRoot = 1, kRun = 2, kUsb = 3, kOther = 4;

std::optional<std::string> problem(const Disks& disks, const std::string& dir,
                                   const std::string& mount) {
  return mount_problem(Folder{"record.dir", dir, mount}, disks.lookup());
}

TEST(RecordMount, AutoRefusesAnEmptyMountPointUnderMedia) {
  Disks d{{{"/", kRoot}, {"/media", kRoot}, {"/media/usb", kRoot}}};
  EXPECT_EQ(problem(d, "/media/usb/rec", "auto"),
            "record.dir /media/usb/rec: nothing is mounted at /media/usb (record.mount = auto); "
            "waiting for the disk");
  // The same with the folder left there by an earlier run on the system disk, spelled loosely.
  d.devices["/media/usb/rec"] = kRoot;
  const auto again = problem(d, "/media/usb/../usb/rec/", "auto");
  ASSERT_TRUE(again);
  EXPECT_NE(again->find("nothing is mounted at /media/usb "), std::string::npos) << *again;
  // Without the mount point at all: still nothing mounted there.
  const Disks bare{{{"/", kRoot}, {"/media", kRoot}}};
  EXPECT_TRUE(problem(bare, "/media/usb/rec", "auto"));
}

TEST(RecordMount, AutoTakesAMountedDisk) {
  const Disks d{{{"/", kRoot}, {"/media", kRoot}, {"/media/usb", kUsb}}};
  EXPECT_EQ(problem(d, "/media/usb/rec", "auto"), std::nullopt);
  EXPECT_EQ(problem(d, "/media/usb", "auto"), std::nullopt);
  // Another disk's empty mount point beside it is still refused, named by its own folder.
  const auto p = problem(d, "/media/usb2/rec", "auto");
  ASSERT_TRUE(p);
  EXPECT_NE(p->find("nothing is mounted at /media/usb2 "), std::string::npos) << *p;
  // A disk mounted at /mnt itself (mount /dev/sdb1 /mnt).
  const Disks mnt{{{"/", kRoot}, {"/mnt", kUsb}}};
  EXPECT_EQ(problem(mnt, "/mnt/rec", "auto"), std::nullopt);
  EXPECT_TRUE(problem(Disks{{{"/", kRoot}, {"/mnt", kRoot}}}, "/mnt/rec", "auto"));
}

// udisks mounts at /run/media/USER/LABEL, on /run's tmpfs: comparing with / would take the
// tmpfs for the disk and record into memory; the mount point's parent is /run.
TEST(RecordMount, AutoUnderRunMediaComparesWithRunNotTheRoot) {
  Disks d{{{"/", kRoot}, {"/run", kRun}, {"/run/media", kRun}, {"/run/media/ann", kRun}}};
  const auto p = problem(d, "/run/media/ann/USB/rec", "auto");
  ASSERT_TRUE(p);
  EXPECT_NE(p->find("nothing is mounted at /run/media/ann "), std::string::npos) << *p;
  d.devices["/run/media/ann/USB"] = kUsb;
  EXPECT_EQ(problem(d, "/run/media/ann/USB/rec", "auto"), std::nullopt);
}

TEST(RecordMount, AutoLeavesOtherFoldersAndOffChecksNothing) {
  const Disks d{{{"/", kRoot}, {"/home", kRoot}, {"/media", kRoot}, {"/mediafiles", kRoot}}};
  EXPECT_EQ(problem(d, "/home/ann/Videos", "auto"), std::nullopt);
  EXPECT_EQ(problem(d, "/mediafiles/rec", "auto"), std::nullopt);  // whole names only
  EXPECT_EQ(problem(d, "/media/usb/rec", ""), std::nullopt);       // record.mount off
}

TEST(RecordMount, APathMustBeMountedAndHoldTheFolder) {
  Disks d{{{"/", kRoot}, {"/data", kRoot}, {"/data/usb", kRoot}}};
  EXPECT_EQ(problem(d, "/data/usb/rec", "/data/usb"),
            "record.dir /data/usb/rec: nothing is mounted at /data/usb (record.mount = "
            "/data/usb); waiting for the disk");
  d.devices["/data/usb"] = kUsb;
  EXPECT_EQ(problem(d, "/data/usb/rec", "/data/usb/"), std::nullopt);
  d.devices["/data/usb/rec"] = kOther;  // a further disk below it
  EXPECT_EQ(problem(d, "/data/usb/rec", "/data/usb"), std::nullopt);
  // A folder elsewhere is not on that disk, mounted or not.
  const auto elsewhere = problem(d, "/data/usbx/rec", "/data/usb");
  ASSERT_TRUE(elsewhere);
  EXPECT_NE(elsewhere->find("is not on the disk of record.mount"), std::string::npos) << *elsewhere;
  // A mount point that does not exist has nothing mounted.
  EXPECT_TRUE(problem(Disks{{{"/", kRoot}, {"/data", kRoot}}}, "/data/usb/rec", "/data/usb"));
}

// On a real folder: the mount point is an empty folder on the same file system as its parent, so
// nothing is mounted there, and the recording folder is not created under it.
TEST(RecordMount, CheckWritableDirCreatesNothingUnderAnEmptyMountPoint) {
  test::ScratchDir scratch;
  const fs::path mount_point = scratch / "usb";
  fs::create_directories(mount_point);
  const std::string dir = (mount_point / "rec").string();
  const auto bad = check_writable_dir(Folder{"record.screenshot_dir", dir, mount_point.string()});
  ASSERT_TRUE(bad);
  EXPECT_EQ(*bad, "record.screenshot_dir " + dir + ": nothing is mounted at " +
                      mount_point.string() + " (record.mount = " + mount_point.string() +
                      "); waiting for the disk");
  EXPECT_TRUE(fs::is_empty(mount_point));
  // record.mount off: today's behaviour, the folder is made.
  EXPECT_EQ(check_writable_dir(Folder{"record.dir", dir, ""}), std::nullopt);
  EXPECT_TRUE(fs::is_directory(dir));
}

// A folder reached through a link (~/Videos/usb -> /media/usb) is judged where the link leads:
// under the empty mount point, it waits for the disk like the folder named directly.
TEST(RecordMount, AFolderThroughALinkIsJudgedWhereTheLinkLeads) {
  test::ScratchDir scratch;
  const fs::path mount_point = scratch / "usb";
  fs::create_directories(mount_point);
  fs::create_directory_symlink(mount_point, scratch / "link");
  const std::string dir = (fs::path(scratch / "link") / "rec").string();
  const auto bad = check_writable_dir(Folder{"record.dir", dir, mount_point.string()});
  ASSERT_TRUE(bad);
  EXPECT_NE(bad->find("nothing is mounted at " + mount_point.string()), std::string::npos) << *bad;
  EXPECT_TRUE(fs::is_empty(mount_point));
}

}  // namespace
}  // namespace dw::record
