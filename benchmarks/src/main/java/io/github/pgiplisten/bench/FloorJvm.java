package io.github.pgiplisten.bench;

import java.io.IOException;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import io.github.pgiplisten.testsupport.InstanceEvent;
import io.github.pgiplisten.testsupport.InstanceJvm;

/** A {@link FloorInstance} JVM and the latest event of each kind it printed. */
final class FloorJvm implements InstanceJvm.Output {

    final String name;
    final InstanceJvm jvm;
    final Map<String, InstanceEvent> events = new ConcurrentHashMap<>();

    FloorJvm(String name, InstanceJvm.Launch launch) throws IOException {
        this.name = name;
        this.jvm = launch.errorsToOutput().start(this);
    }

    @Override
    public void event(InstanceEvent event) {
        events.put(event.kind(), event);
    }

    @Override
    public void line(String line) {
        if (line.contains("Exception") || line.contains("ERROR")) {
            System.err.println("  [floor-" + name + "] " + line);
        }
    }

    boolean has(String kind) {
        return events.containsKey(kind);
    }

    private InstanceEvent latest(String kind) {
        InstanceEvent event = events.get(kind);
        if (event == null) {
            throw new IllegalStateException("floor-" + name + " did not report " + kind + ": " + events);
        }
        return event;
    }

    /** When the latest event of the kind happened (epoch micros). */
    long get(String kind) {
        return latest(kind).micros();
    }

    /** The count the latest event of the kind carries. */
    long count(String kind) {
        return latest(kind).detailAsLong();
    }
}
