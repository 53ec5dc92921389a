#include "image_builder.hpp"

#include "image.hpp"

namespace cr::test {

void ImageBuilder::finish()
{
    cr_rec_trailer t{};
    t.nr_records = records;
    t.checksum = image_checksum(bytes);
    add(CR_REC_TRAILER, t);
}

std::vector<uint8_t> valid_image()
{
    ImageBuilder b;
    cr_rec_header h{};
    h.magic = CR_IMAGE_MAGIC;
    h.version = CR_IMAGE_VERSION;
    h.arch = CR_ARCH_X86_64;
    h.page_size = 4096;
    h.xsave_size = 576;
    std::strcpy(h.release, "6.12.117");
    b.add(CR_REC_HEADER, h);

    cr_rec_tree tree{};
    tree.nr_tasks = 1;
    cr_tree_entry entry = {100, 100, 0, 100, 100, CR_TASK_ROOT | CR_TASK_THREAD_LEADER};
    b.add(CR_REC_TREE, tree, &entry, sizeof(entry));

    cr_rec_task task{};
    task.pid = 100;
    task.mm_ref = 1;
    task.files_ref = 3;
    task.sighand_ref = 4;
    task.fs_ref = 5;
    std::strcpy(task.comm, "victim");
    b.add(CR_REC_TASK, task);
    b.add(CR_REC_CREDS, cr_rec_creds{});
    b.add(CR_REC_RLIMITS, cr_rec_rlimits{});
    b.add(CR_REC_ITIMERS, cr_rec_itimers{});
    b.add(CR_REC_RESTART_BLOCK, cr_rec_restart_block{});
    b.add(CR_REC_CPU, cr_rec_cpu{});
    std::vector<uint8_t> xsave(576, 0);
    cr_rec_fpu fpu{};
    fpu.size = 576;
    b.add(CR_REC_FPU, fpu, xsave.data(), xsave.size());

    const char exe[] = "/bin/true";
    cr_rec_mm mm{};
    mm.objref = 1;
    mm.nr_vmas = 1;
    mm.exe_len = sizeof(exe) - 1;
    b.add(CR_REC_MM, mm, exe, mm.exe_len);
    cr_rec_vma vma{};
    vma.start = 0x10000;
    vma.end = 0x12000;
    vma.kind = CR_VMA_ANON;
    vma.prot = 3;
    vma.nr_pages = 1;
    b.add(CR_REC_VMA, vma);
    std::vector<uint8_t> page(8 + 4096, 0xab);
    uint64_t addr = 0x11000;
    std::memcpy(page.data(), &addr, 8);
    cr_rec_pages pages{};
    pages.nr = 1;
    b.add(CR_REC_PAGES, pages, page.data(), page.size());
    cr_rec_mm_end end{};
    end.objref = 1;
    end.nr_pages = 1;
    b.add(CR_REC_MM_END, end);

    const char path[] = "/etc/hostname";
    cr_rec_file file{};
    file.objref = 2;
    file.kind = CR_FILE_REG;
    file.mode = 0100644;
    file.path_len = sizeof(path) - 1;
    b.add(CR_REC_FILE, file, path, file.path_len);
    cr_rec_fd_table fds{};
    fds.objref = 3;
    fds.nr_fds = 1;
    cr_fd_entry fd0 = {0, 0, 2, 0};
    b.add(CR_REC_FD_TABLE, fds, &fd0, sizeof(fd0));

    const char cwd[] = "/";
    cr_rec_fs fs{};
    fs.objref = 5;
    fs.umask = 022;
    fs.cwd_len = 1;
    b.add(CR_REC_FS, fs, cwd, 1);
    cr_rec_sighand sighand{};
    sighand.objref = 4;
    b.add(CR_REC_SIGHAND, sighand);
    b.add(CR_REC_SIGNALS, cr_rec_signals{});
    b.finish();
    return b.bytes;
}

} // namespace cr::test
