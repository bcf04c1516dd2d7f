import Foundation

/// Opening an input file safely: only regular files are read. A directory, a FIFO (whose open
/// would block for ever), a socket, a device, a dangling link or a link loop, or a file siyu may
/// not read is refused with a message that says what it is and what to do.
public enum InputFile {
    /// Why `path` cannot be read as an export, or nil when it is a readable regular file
    /// (a symbolic link to one is followed).
    public static func problem(_ path: String) -> String? {
        var st = stat()
        if stat(path, &st) != 0 {
            let e = errno
            var lst = stat()
            if lstat(path, &lst) == 0, (lst.st_mode & S_IFMT) == S_IFLNK {
                return e == ELOOP ? "a symbolic link loop, not a file; remove or fix the link"
                    : "a symbolic link to nothing (its target is gone); remove the link or restore its target"
            }
            return e == EACCES ? "cannot be reached (permission denied on a folder above it); check the folders' permissions"
                : "cannot be read (\(String(cString: strerror(e)))); check that it exists"
        }
        switch st.st_mode & S_IFMT {
        case S_IFREG: break
        case S_IFDIR: return "a directory, not a file; move it out of the export folder (or rename it) so that the glob matches export files only"
        case S_IFIFO: return "a named pipe (FIFO), not a file; siyu reads only regular files"
        case S_IFSOCK: return "a socket, not a file; siyu reads only regular files"
        case S_IFCHR, S_IFBLK: return "a device, not a file; siyu reads only regular files"
        default: return "not a regular file; siyu reads only regular files"
        }
        if access(path, R_OK) != 0 { return "cannot be read: permission denied; give the user running siyu read access (chmod o+r, or run siyu as the file's owner)" }
        return nil
    }

    /// Opens a regular file for reading, refusing anything else without blocking (O_NONBLOCK for
    /// the open, checked with fstat on the descriptor, then back to blocking reads).
    public static func open(_ path: String) throws -> FileHandle {
        let fd = Glibc.open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC)
        guard fd >= 0 else {
            throw SiyuError.input(file: path, line: nil, column: nil, message: problem(path) ?? "cannot open the file for reading (\(String(cString: strerror(errno)))); check the path and its permissions")
        }
        var st = stat()
        guard fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else {
            close(fd)
            throw SiyuError.input(file: path, line: nil, column: nil, message: problem(path) ?? "not a regular file; siyu reads only regular files")
        }
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK)
        return FileHandle(fileDescriptor: fd, closeOnDealloc: true)
    }
}
