package io.github.pgiplisten.testsupport;

import java.io.IOException;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.jspecify.annotations.Nullable;

/**
 * An instance under test in a JVM of its own, as the fleet demo, the benchmarks and the chaos suite start them: its
 * output read line by line ({@link InstanceEvent}s and ordinary lines, on daemon threads), signals sent to it, lines
 * written to its stdin. A separate JVM because what is measured and broken here is process-level: a killed JVM's
 * socket, a SIGTERM's shutdown hooks, a cold JVM's takeover.
 *
 * <p>Signals go through {@link ProcessHandle}, not {@link Process#destroy()}: the latter also closes this side's ends
 * of the instance's pipes, and what the instance reports while it hands over or dies would be lost.
 */
public final class InstanceJvm implements AutoCloseable {

    /** Where an instance's lines go; called on the reader threads, in the order the instance printed them. */
    public interface Output {

        /** An {@code ev …} line of its stdout. */
        void event(InstanceEvent event);

        /** Any other line of its stdout (and of its stderr, when {@link Launch#errorsToOutput()} merges them). */
        default void line(String line) {}

        /** A line of its stderr, when it is read apart. */
        default void errorLine(String line) {}
    }

    /** How to start one: the command line is built from these, then {@link #start} runs it. */
    public static final class Launch {

        private final String name;
        private final List<String> jvmOptions = new ArrayList<>();
        private final Map<String, String> systemProperties = new LinkedHashMap<>();
        private final Map<String, String> environment = new LinkedHashMap<>();
        private final List<String> arguments = new ArrayList<>();
        private String classPath = currentClassPath();
        private @Nullable String mainClass;
        private @Nullable Path jar;
        private boolean errorsToOutput;

        private Launch(String name) {
            this.name = name;
        }

        /** Options of the JVM itself ({@code -Xmx256m}, {@code -XX:+UseSerialGC}). */
        public Launch jvmOptions(String... options) {
            jvmOptions.addAll(List.of(options));
            return this;
        }

        public Launch systemProperty(String key, String value) {
            systemProperties.put(key, value);
            return this;
        }

        public Launch environment(String key, String value) {
            environment.put(key, value);
            return this;
        }

        /** The class path of {@link #mainClass}; by default this JVM's (see {@link #currentClassPath()}). */
        public Launch classPath(String classPath) {
            this.classPath = classPath;
            return this;
        }

        public Launch mainClass(Class<?> type) {
            return mainClass(type.getName());
        }

        public Launch mainClass(String name) {
            this.mainClass = name;
            this.jar = null;
            return this;
        }

        /** {@code java -jar}: the instance runs exactly what a user runs. */
        public Launch jar(Path jar) {
            this.jar = jar;
            this.mainClass = null;
            return this;
        }

        public Launch arguments(String... arguments) {
            return arguments(List.of(arguments));
        }

        public Launch arguments(List<String> arguments) {
            this.arguments.addAll(arguments);
            return this;
        }

        /** Reads stderr as part of stdout; otherwise each stderr line goes to {@link Output#errorLine}. */
        public Launch errorsToOutput() {
            this.errorsToOutput = true;
            return this;
        }

        /** The command line {@link #start} runs. */
        public List<String> command() {
            List<String> command = new ArrayList<>();
            command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
            command.addAll(jvmOptions);
            systemProperties.forEach((key, value) -> command.add("-D" + key + "=" + value));
            if (jar != null) {
                command.addAll(List.of("-jar", jar.toString()));
            } else if (mainClass != null) {
                command.addAll(List.of("-cp", classPath, mainClass));
            } else {
                throw new IllegalStateException(name + ": neither a main class nor a jar to run");
            }
            command.addAll(arguments);
            return command;
        }

        /** Starts the JVM and reads its output into {@code output} from the first line on. */
        public InstanceJvm start(Output output) throws IOException {
            ProcessBuilder builder = new ProcessBuilder(command()).redirectErrorStream(errorsToOutput);
            builder.environment().putAll(environment);
            Process process = builder.start();
            ProcessOutput.follow(process, name + "-out", line -> {
                var event = InstanceEvent.parse(line);
                if (event.isPresent()) {
                    output.event(event.get());
                } else {
                    output.line(line);
                }
            });
            if (!errorsToOutput) {
                ProcessOutput.follow(process.getErrorStream(), name + "-err", output::errorLine);
            }
            return new InstanceJvm(name, process);
        }
    }

    private final String name;
    private final Process process;
    private final Writer stdin;

    private InstanceJvm(String name, Process process) {
        this.name = name;
        this.process = process;
        this.stdin = new OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8);
    }

    /** {@code name} names its reader threads and its messages. */
    public static Launch launch(String name) {
        return new Launch(name);
    }

    /**
     * The class path of this JVM as a child should get it: under Surefire the real one (its {@code java.class.path}
     * may be a manifest-only jar), otherwise {@code java.class.path}.
     */
    public static String currentClassPath() {
        return System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
    }

    public String name() {
        return name;
    }

    public long pid() {
        return process.pid();
    }

    /** For what the harness does not cover: {@code /proc/<pid>}, {@code jcmd}, exit codes. */
    public Process process() {
        return process;
    }

    public boolean isAlive() {
        return process.isAlive();
    }

    /** SIGTERM: the instance runs its shutdown hooks (hands over); its output stays readable to the end. */
    public void terminate() {
        process.toHandle().destroy();
    }

    /** SIGKILL: a crash; what it printed before is still read. */
    public void kill() {
        process.toHandle().destroyForcibly();
    }

    /** Whether it exited within {@code atMost}. */
    public boolean awaitExit(Duration atMost) throws InterruptedException {
        return process.waitFor(atMost.toNanos(), TimeUnit.NANOSECONDS);
    }

    /** SIGTERM, then SIGKILL if it has not exited after {@code grace}; returns whether it exited on the SIGTERM. */
    public boolean stop(Duration grace) throws InterruptedException {
        terminate();
        if (awaitExit(grace)) {
            return true;
        }
        kill();
        awaitExit(Duration.ofSeconds(20));
        return false;
    }

    /** Writes one line to its stdin: a command for instances that read them. */
    public void send(String line) throws IOException {
        synchronized (stdin) {
            stdin.write(line + "\n");
            stdin.flush();
        }
    }

    /** SIGKILL and waits (at most 20 s) until it is gone: what is left at the end of a run. */
    @Override
    public void close() throws InterruptedException {
        kill();
        awaitExit(Duration.ofSeconds(20));
    }

    @Override
    public String toString() {
        return name + " (pid " + process.pid() + ")";
    }
}
