package io.github.pgiplisten.core;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

import io.github.pgiplisten.testsupport.LocalPostgresServer;
import io.github.pgiplisten.testsupport.PostgresServer;

/** The part of a server's log written since a test began: what an operator would read of it. */
public final class ServerLog {

    private final Path file;
    private final long from;

    private ServerLog(Path file, long from) {
        this.file = file;
        this.from = from;
    }

    /** The log of a server the tests started (only those have a log file to read), from its end now on. */
    public static ServerLog from(PostgresServer server) {
        if (!(server instanceof LocalPostgresServer local)) {
            throw new IllegalStateException(
                    "Reading the server's log needs a server the tests started, not " + server.description());
        }
        try {
            return new ServerLog(local.logFile(), Files.size(local.logFile()));
        } catch (IOException ex) {
            throw new UncheckedIOException(ex);
        }
    }

    /** The lines written since, with the statement lines that follow errors. */
    List<String> linesSince() {
        try {
            byte[] all = Files.readAllBytes(file);
            String written = new String(
                    all,
                    (int) Math.min(from, all.length),
                    (int) Math.max(0, all.length - from),
                    StandardCharsets.UTF_8);
            return Arrays.stream(written.split("\n"))
                    .filter(line -> !line.isBlank())
                    .toList();
        } catch (IOException ex) {
            throw new UncheckedIOException(ex);
        }
    }

    /** The ERROR lines written since. */
    public List<String> errorsSince() {
        return linesSince().stream().filter(line -> line.contains("ERROR:")).toList();
    }
}
