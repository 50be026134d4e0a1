package io.github.pgiplisten.core.election;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.IntStream;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import io.github.pgiplisten.core.PgNotification;
import io.github.pgiplisten.core.dispatch.Backlog;

/** What a standby keeps past its memory limit waits on disk, in order, and goes as its leader confirms. */
class HeldNotificationsTest {

    private static final long ONE = Backlog.sizeOf(n(0));

    /** Room for ten in memory: the rest goes to disk, five at a time. */
    private final HeldNotifications held = new HeldNotifications(10 * ONE);

    @AfterEach
    void close() {
        held.close();
    }

    private static PgNotification n(int number) {
        return new PgNotification("orders", String.format("n%04d", number), 4711);
    }

    /** Keeps n{from}… n{to - 1} at positions from … to - 1. */
    private void hold(int from, int to) {
        for (int i = from; i < to; i++) {
            held.add(i, n(i));
        }
    }

    private List<String> takeAll() {
        List<String> taken = new ArrayList<>();
        List<PgNotification> next;
        while (!(next = held.takeOldest(3 * ONE)).isEmpty()) {
            next.forEach(notification -> taken.add(notification.payload()));
        }
        return taken;
    }

    private static List<String> numbers(int from, int to) {
        return IntStream.range(from, to)
                .mapToObj(i -> String.format("n%04d", i))
                .toList();
    }

    @Test
    void pastTheMemoryLimitTheOldestWaitOnDiskAndComeBackFirstInOrder() {
        hold(0, 1000);

        assertThat(held.bytesOnDisk()).isPositive();
        assertThat(held.count()).isEqualTo(1000);
        assertThat(takeAll()).containsExactlyElementsOf(numbers(0, 1000));
        assertThat(held.count()).isZero();
        assertThat(held.bytesOnDisk()).isZero();
        assertThat(held.dropped()).isZero();
    }

    @Test
    void aConfirmationDropsWholeChunksAndPartOfTheOneItFallsIn() {
        hold(0, 1000);

        held.dropBefore(503);

        assertThat(held.count()).isEqualTo(497);
        assertThat(takeAll()).containsExactlyElementsOf(numbers(503, 1000));
    }

    @Test
    void aConfirmationPastEverythingOnDiskEmptiesTheFileAndKeepsTheRest() {
        hold(0, 1000);

        held.dropBefore(995);

        assertThat(held.bytesOnDisk()).isZero();
        assertThat(takeAll()).containsExactlyElementsOf(numbers(995, 1000));
    }

    @Test
    void whatComesAfterATakeFromDiskStillLandsBehindWhatIsLeft() {
        hold(0, 100);
        List<PgNotification> first = held.takeOldest(ONE);
        hold(100, 200);

        List<String> all =
                new ArrayList<>(first.stream().map(PgNotification::payload).toList());
        all.addAll(takeAll());
        assertThat(all).containsExactlyElementsOf(numbers(0, 200));
    }
}
