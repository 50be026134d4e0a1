package io.github.pgiplisten.testsupport;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A throwaway server that this JVM started from PostgreSQL binaries, in a temporary directory, on a free loopback
 * port, and stops at JVM exit. PostgreSQL refuses to run as root, so when the JVM runs as root every server command
 * runs through {@code runuser} as the {@code postgres} user (or {@code nobody} when that user does not exist).
 *
 * <p>Tests may stop, start and restart it: the port and data stay, so clients reconnect to the same address.
 *
 * <p>Over 300 lines because a server's whole life is here (init, TLS, start, stop modes, restart, a streaming replica
 * and its promotion), each step a {@code pg_ctl} or {@code initdb} call with its error reporting.
 */
public final class LocalPostgresServer implements PostgresServer {

    private static final Logger log = LoggerFactory.getLogger(LocalPostgresServer.class);

    /** How {@link #stop} shuts the server down; the names are {@code pg_ctl}'s modes. */
    public enum StopMode {
        /** Disconnects clients cleanly and shuts down. */
        FAST,
        /** Like a crash: every process is ended at once, recovery runs on the next start. */
        IMMEDIATE
    }

    private final Path bin;
    private final Path directory;
    private final Path data;
    private final int port;
    private final List<String> runAs;
    private final String origin;
    private boolean running;
    private boolean tls;

    private LocalPostgresServer(Path bin, Path directory, int port, List<String> runAs, String origin) {
        this.bin = bin;
        this.directory = directory;
        this.data = directory.resolve("data");
        this.port = port;
        this.runAs = runAs;
        this.origin = origin;
    }

    /** Creates a cluster with the binaries in {@code bin}, starts it and registers its stop at JVM exit. */
    static LocalPostgresServer start(Path bin, String origin) throws IOException {
        return start(bin, origin, false);
    }

    /**
     * As {@link #start}, with {@code ssl = on}, a self-signed certificate made now, and TLS required of every TCP
     * connection ({@code hostssl} alone in {@code pg_hba.conf}): a connection that is not encrypted is refused, so a
     * test that gets through is encrypted. Its {@link #jdbcUrl()} asks for {@code sslmode=require}.
     */
    static LocalPostgresServer startWithTls(Path bin, String origin) throws IOException {
        return start(bin, origin, true);
    }

    private static LocalPostgresServer start(Path bin, String origin, boolean tls) throws IOException {
        LocalPostgresServer server = create(bin, origin, "pg-ip-listen-test-");
        server.initialise();
        if (tls) {
            server.requireTls();
        }
        server.start();
        return server;
    }

    private static LocalPostgresServer create(Path bin, String origin, String directoryPrefix) throws IOException {
        List<String> runAs = runAsUnprivilegedUser();
        Path directory = Files.createTempDirectory(directoryPrefix);
        Files.setPosixFilePermissions(directory, PosixFilePermissions.fromString("rwxr-xr-x"));
        if (!runAs.isEmpty()) {
            exec(List.of("chown", runAs.get(2), directory.toString()), List.of(), "chown the data directory");
        }
        LocalPostgresServer server = new LocalPostgresServer(bin, directory, freePort(), runAs, origin);
        // registered first, so a failed initdb or start leaves no directory or half-started server behind
        Runtime.getRuntime().addShutdownHook(new Thread(server::destroy, "pg-ip-listen-test-postgres-stop"));
        return server;
    }

    @Override
    public String jdbcUrl() {
        return "jdbc:postgresql://127.0.0.1:" + port + "/postgres" + (tls ? "?sslmode=require" : "");
    }

    @Override
    public String username() {
        return "postgres";
    }

    @Override
    public String password() {
        return "";
    }

    public int port() {
        return port;
    }

    @Override
    public String description() {
        return "a throwaway local server started by this process from " + origin + " (" + bin + ") on port " + port
                + (runAs.isEmpty() ? "" : " as user " + runAs.get(2)) + (tls ? ", TLS required" : "");
    }

    /** The server's log file: what it writes for operators (errors, the statements that caused them). */
    public Path logFile() {
        return directory.resolve("server.log");
    }

    public synchronized void start() {
        if (!running) {
            pgCtl(
                    "start",
                    "-w",
                    "-t",
                    "60",
                    "-l",
                    directory.resolve("server.log").toString());
            running = true;
        }
    }

    public synchronized void stop(StopMode mode) {
        if (running) {
            pgCtl("stop", "-w", "-t", "60", "-m", mode.name().toLowerCase(java.util.Locale.ROOT));
            running = false;
        }
    }

    /**
     * Starts a streaming replica of this server from the same binaries, in a directory and on a port of its own: a
     * hot standby (read-only, in recovery) until {@link #promote()}. Its base is a copy of this server's data taken
     * while this server is briefly stopped (so no {@code pg_basebackup} is needed: the binaries from Maven Central do
     * not have it); it then streams this server's WAL. Stopped at JVM exit like this one.
     */
    public synchronized LocalPostgresServer startReplica() throws IOException {
        LocalPostgresServer replica = create(bin, origin + ", a replica of port " + port, "pg-ip-listen-replica-");
        boolean wasRunning = running;
        stop(StopMode.FAST);
        try {
            asServerUser(List.of("cp", "-a", data.toString(), replica.data.toString()), "copy the data directory");
        } finally {
            if (wasRunning) {
                start();
            }
        }
        String settings = String.join(
                "\n",
                "",
                "# pg-ip-listen test replica",
                "port = " + replica.port,
                "unix_socket_directories = '" + replica.directory + "'",
                "primary_conninfo = 'host=127.0.0.1 port=" + port + " user=postgres application_name=replica'",
                "hot_standby = on",
                "");
        replica.writeAsServerUser(replica.data.resolve("postgresql.conf"), settings, ">>");
        replica.writeAsServerUser(replica.data.resolve("standby.signal"), "", ">");
        replica.start();
        return replica;
    }

    /** Ends this replica's recovery: it becomes a primary that accepts writes, LISTEN and advisory locks. */
    public synchronized void promote() {
        pgCtl("promote", "-w", "-t", "60");
    }

    /** Whether the server is in recovery (a hot standby), as it says itself. */
    public boolean isInRecovery() throws SQLException {
        try (Connection connection = connect();
                Statement statement = connection.createStatement();
                ResultSet result = statement.executeQuery("SELECT pg_is_in_recovery()")) {
            result.next();
            return result.getBoolean(1);
        }
    }

    /** Stops the server in the given mode and starts it again on the same port. */
    public synchronized void restart(StopMode mode) {
        stop(mode);
        start();
    }

    public synchronized boolean isRunning() {
        return running;
    }

    private void initialise() throws IOException {
        asServerUser(
                List.of(
                        bin.resolve("initdb").toString(),
                        "-D",
                        data.toString(),
                        "-U",
                        "postgres",
                        "--auth=trust",
                        "-E",
                        "UTF8",
                        "--no-locale",
                        "--no-sync"),
                "initdb");
        String settings = String.join(
                "\n",
                "",
                "# pg-ip-listen test server",
                "port = " + port,
                "listen_addresses = '127.0.0.1'",
                "unix_socket_directories = '" + directory + "'",
                "max_connections = 300",
                "fsync = off",
                "synchronous_commit = off",
                "full_page_writes = off",
                "log_min_messages = warning",
                "");
        writeAsServerUser(data.resolve("postgresql.conf"), settings, ">>");
    }

    /** Before the first start: the certificate and key beside the data, {@code ssl = on}, TLS-only TCP access. */
    private void requireTls() throws IOException {
        Path certificate = directory.resolve("server.crt");
        Path key = directory.resolve("server.key");
        SelfSignedCertificate.write(certificate, key);
        if (!runAs.isEmpty()) {
            // PostgreSQL reads its key only when the server user owns it and nobody else may read it
            exec(List.of("chown", runAs.get(2), certificate.toString(), key.toString()), List.of(), "chown the key");
        }
        writeAsServerUser(
                data.resolve("postgresql.conf"),
                String.join(
                        "\n",
                        "",
                        "ssl = on",
                        "ssl_cert_file = '" + certificate + "'",
                        "ssl_key_file = '" + key + "'",
                        ""),
                ">>");
        writeAsServerUser(
                data.resolve("pg_hba.conf"),
                String.join(
                        "\n",
                        "local all all trust",
                        "hostssl all all 127.0.0.1/32 trust",
                        "hostssl replication all 127.0.0.1/32 trust",
                        ""),
                ">");
        tls = true;
    }

    /**
     * Appends ({@code >>}) or writes ({@code >}) a file of the data directory as the server user, who owns it; the
     * text is written by this JVM first, the server user only needs to read it.
     */
    private void writeAsServerUser(Path file, String text, String redirect) throws IOException {
        if (runAs.isEmpty()) {
            Files.writeString(
                    file,
                    text,
                    StandardCharsets.UTF_8,
                    StandardOpenOption.CREATE,
                    redirect.equals(">>") ? StandardOpenOption.APPEND : StandardOpenOption.TRUNCATE_EXISTING);
        } else {
            Path extra = Files.createTempFile(directory, "pg-ip-listen-", ".conf");
            Files.writeString(extra, text, StandardCharsets.UTF_8);
            Files.setPosixFilePermissions(extra, PosixFilePermissions.fromString("rw-r--r--"));
            asServerUser(
                    List.of("sh", "-c", "cat '" + extra + "' " + redirect + " '" + file + "'"),
                    "write " + file.getFileName());
        }
    }

    private void pgCtl(String... arguments) {
        List<String> command = new ArrayList<>();
        command.add(bin.resolve("pg_ctl").toString());
        command.add("-D");
        command.add(data.toString());
        command.addAll(List.of(arguments));
        try {
            asServerUser(command, "pg_ctl " + arguments[0]);
        } catch (IOException ex) {
            throw new IllegalStateException(ex.getMessage() + "\n" + serverLogTail(), ex);
        }
    }

    private void asServerUser(List<String> command, String what) throws IOException {
        exec(runAs, command, what);
    }

    private void destroy() {
        try {
            if (Files.exists(data.resolve("postmaster.pid"))) {
                exec(
                        runAs,
                        List.of(
                                bin.resolve("pg_ctl").toString(),
                                "-D",
                                data.toString(),
                                "stop",
                                "-m",
                                "immediate",
                                "-w",
                                "-t",
                                "20"),
                        "pg_ctl stop");
            }
        } catch (IOException | RuntimeException ex) {
            log.warn("Could not stop the test server in {}: {}", directory, ex.getMessage());
        }
        try (Stream<Path> files = Files.walk(directory)) {
            files.sorted(Comparator.reverseOrder())
                    .forEach(path -> path.toFile().delete());
        } catch (IOException ex) {
            // a temporary directory; the operating system cleans it eventually
        }
    }

    private String serverLogTail() {
        try {
            List<String> lines = Files.readAllLines(directory.resolve("server.log"));
            return "server log (last lines):\n"
                    + String.join("\n", lines.subList(Math.max(0, lines.size() - 20), lines.size()));
        } catch (IOException ex) {
            return "(no server log)";
        }
    }

    static void exec(List<String> prefix, List<String> command, String what) throws IOException {
        List<String> full = new ArrayList<>(prefix);
        full.addAll(command);
        // output to a file, not a pipe: pg_ctl's server child inherits the pipe and would keep it open for ever
        Path outputFile = Files.createTempFile("pg-ip-listen-exec-", ".log");
        Process process = new ProcessBuilder(full)
                .redirectErrorStream(true)
                .redirectOutput(outputFile.toFile())
                .start();
        String output;
        try {
            boolean finished = process.waitFor(120, TimeUnit.SECONDS);
            output = Files.readString(outputFile, StandardCharsets.UTF_8);
            Files.deleteIfExists(outputFile);
            if (!finished) {
                process.destroyForcibly();
                throw new IOException(what + " did not finish in 120 s: " + full + "\n" + output);
            }
        } catch (InterruptedException ex) {
            Thread.currentThread().interrupt();
            process.destroyForcibly();
            throw new IOException(what + " was interrupted", ex);
        }
        if (process.exitValue() != 0) {
            throw new IOException(what + " failed with exit code " + process.exitValue() + ": " + full + "\n" + output);
        }
    }

    /** {@code runuser -u USER --} when this JVM is root (PostgreSQL refuses root), otherwise nothing. */
    private static List<String> runAsUnprivilegedUser() throws IOException {
        if (!isRoot()) {
            return List.of();
        }
        String user = userExists("postgres") ? "postgres" : "nobody";
        return List.of("runuser", "-u", user, "--");
    }

    private static boolean isRoot() {
        try {
            Process process =
                    new ProcessBuilder("id", "-u").redirectErrorStream(true).start();
            String uid = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
            process.waitFor(10, TimeUnit.SECONDS);
            return "0".equals(uid);
        } catch (IOException ex) {
            return false;
        } catch (InterruptedException ex) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    private static boolean userExists(String user) {
        try {
            Process process =
                    new ProcessBuilder("id", user).redirectErrorStream(true).start();
            process.getInputStream().readAllBytes();
            return process.waitFor(10, TimeUnit.SECONDS) && process.exitValue() == 0;
        } catch (IOException ex) {
            return false;
        } catch (InterruptedException ex) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }
}
