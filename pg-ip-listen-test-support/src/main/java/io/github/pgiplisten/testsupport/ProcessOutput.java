package io.github.pgiplisten.testsupport;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.function.Consumer;

/**
 * Reads a child process's output line by line on a daemon thread, until the process closes it: a child that writes
 * into a full pipe nobody reads would block. {@link InstanceJvm} reads its instances' output with it.
 */
public final class ProcessOutput {

    private ProcessOutput() {}

    /** Hands every line of the process's output to {@code lines}, on a daemon thread named {@code threadName}. */
    public static void follow(Process process, String threadName, Consumer<String> lines) {
        follow(process.getInputStream(), threadName, lines);
    }

    /** Hands every line of {@code stream} (a process's stderr, say) to {@code lines}, on a daemon thread. */
    public static void follow(InputStream stream, String threadName, Consumer<String> lines) {
        Thread reader = new Thread(
                () -> {
                    try (BufferedReader output =
                            new BufferedReader(new InputStreamReader(stream, StandardCharsets.UTF_8))) {
                        String line;
                        while ((line = output.readLine()) != null) {
                            try {
                                lines.accept(line);
                            } catch (RuntimeException ex) {
                                // one line it could not make sense of: keep reading the others
                            }
                        }
                    } catch (IOException ex) {
                        // the process is gone
                    }
                },
                threadName);
        reader.setDaemon(true);
        reader.start();
    }
}
