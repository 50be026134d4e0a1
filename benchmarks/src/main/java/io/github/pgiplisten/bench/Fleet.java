package io.github.pgiplisten.bench;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

import io.github.pgiplisten.testsupport.ProcessOutput;

/** Instances in JVMs of their own, and what they report: who handled which number when (epoch micros). */
final class Fleet implements AutoCloseable {

    record Handling(String instance, long micros) {
    }

    static final class Instance {
        final String name;
        final Process process;
        volatile boolean ready;
        volatile boolean leader;
        volatile long leaderAt;
        volatile long revokedAt;
        /** What it handled so far, when it runs quiet (see {@link OursInstance#QUIET}). */
        volatile long count;

        Instance(String name, Process process) {
            this.name = name;
            this.process = process;
        }
    }

    final Map<Long, List<Handling>> handled = new ConcurrentHashMap<>();
    final List<Instance> instances = new CopyOnWriteArrayList<>();
    volatile String lastHandler;
    private final Function<String, List<String>> command;

    /** @param command the command line that starts the instance with the given name */
    Fleet(Function<String, List<String>> command) {
        this.command = command;
    }

    Instance start(String name) throws IOException {
        Process process = new ProcessBuilder(command.apply(name)).redirectErrorStream(true).start();
        Instance instance = new Instance(name, process);
        instances.add(instance);
        ProcessOutput.follow(process, "fleet-reader-" + name, line -> read(instance, line));
        return instance;
    }

    private void read(Instance instance, String line) {
        String[] parts = line.split(" ", 3);
        if (parts.length < 3 || !parts[0].equals("ev")) {
            if (line.contains("ERROR") || line.contains("Exception")) {
                System.err.println("  [" + instance.name + "] " + line);
            }
            return;
        }
        long micros = Long.parseLong(parts[1]);
        String event = parts[2];
        if (event.equals("ready")) {
            instance.ready = true;
        } else if (event.equals("leader")) {
            instance.leader = true;
            instance.leaderAt = micros;
        } else if (event.equals("revoked")) {
            instance.revokedAt = micros;
        } else if (event.startsWith("count ")) {
            instance.count = Long.parseLong(event.substring("count ".length()));
        } else if (event.startsWith("handled ")) {
            String payload = event.substring("handled ".length());
            if (payload.startsWith("n")) {
                handled.computeIfAbsent(Long.parseLong(payload.substring(1)), n -> new CopyOnWriteArrayList<>())
                        .add(new Handling(instance.name, micros));
                lastHandler = instance.name;
            }
        }
    }

    Instance byName(String name) {
        return instances.stream().filter(i -> i.name.equals(name) && i.process.isAlive()).findFirst().orElseThrow();
    }

    List<Instance> alive() {
        List<Instance> alive = new ArrayList<>();
        instances.forEach(i -> {
            if (i.process.isAlive()) {
                alive.add(i);
            }
        });
        return alive;
    }

    @Override
    public void close() throws InterruptedException {
        for (Instance instance : instances) {
            instance.process.toHandle().destroyForcibly();
        }
        for (Instance instance : instances) {
            instance.process.waitFor(20, TimeUnit.SECONDS);
        }
    }
}
