package io.github.pgiplisten.core;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/** A handler that remembers what it handled, for assertions. */
final class Recorder implements NotificationHandler {

    private final List<PgNotification> handled = new CopyOnWriteArrayList<>();

    @Override
    public void handle(PgNotification notification) {
        handled.add(notification);
    }

    List<PgNotification> handled() {
        return handled;
    }

    List<String> payloads() {
        List<String> payloads = new ArrayList<>();
        handled.forEach(notification -> payloads.add(notification.payload()));
        return payloads;
    }

    int count() {
        return handled.size();
    }
}
