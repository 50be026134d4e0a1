package io.github.pgiplisten.core.election;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Set;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import io.github.pgiplisten.core.CrashDelivery;
import io.github.pgiplisten.core.PgNotification;
import io.github.pgiplisten.core.dispatch.Backlog;

/**
 * Which notifications a new leader owns, from what its standby kept and the control messages it read (the marker
 * classification of the takeover protocol), and when a standby is ready to take over without a gap.
 */
class SuccessionTest {

    private static final int LEADER = 100;
    private static final int OTHER_LEADER = 300;
    private static final int STRANGER = 200;
    private static final long ROOMY = 64L * 1024 * 1024;

    private final Succession succession = new Succession(ROOMY);

    @AfterEach
    void close() {
        succession.close();
    }

    private static PgNotification n(String payload) {
        return new PgNotification("orders", payload, 4711);
    }

    private void hold(String... payloads) {
        for (String payload : payloads) {
            succession.hold(n(payload));
        }
    }

    private void control(String message, int pid) {
        succession.control(Objects.requireNonNull(ControlMessage.parse(message)), pid);
    }

    private void seeAtTheLock(int... pids) {
        for (int pid : pids) {
            succession.observe(Set.of(pid));
        }
    }

    static List<String> payloads(Succession.Plan plan) {
        List<String> payloads = new ArrayList<>();
        List<PgNotification> next;
        while (!(next = plan.inherited().takeOldest(1024)).isEmpty()) {
            next.forEach(notification -> payloads.add(notification.payload()));
        }
        return payloads;
    }

    @Nested
    class AHandover {

        @ParameterizedTest
        @EnumSource(CrashDelivery.class)
        void ownsExactlyWhatCameAfterTheDoneMarkWhateverTheCrashDelivery(CrashDelivery crashDelivery) {
            seeAtTheLock(LEADER);
            hold("a", "b");
            control(Protocol.mark("aa01"), LEADER);
            hold("c", "d");
            control(Protocol.done("aa01"), LEADER);

            Succession.Plan plan = succession.takeOver(crashDelivery);

            assertThat(payloads(plan)).containsExactly("c", "d");
            assertThat(plan.handedOver()).isTrue();
            assertThat(plan.gapPossible()).isFalse();
            assertThat(plan.possibleRepeats()).isZero();
            assertThat(plan.skipped()).isZero();
        }

        @Test
        void ofALeaderSeenWaitingThatTookOverWhileThisStandbyListenedCounts() {
            seeAtTheLock(LEADER, OTHER_LEADER); // the other was waiting behind the leader
            control(Protocol.lead("aa00"), OTHER_LEADER);
            hold("a");
            control(Protocol.mark("aa01"), OTHER_LEADER);
            hold("b");
            control(Protocol.done("aa01"), OTHER_LEADER);

            Succession.Plan plan = succession.takeOver(CrashDelivery.AT_LEAST_ONCE);

            assertThat(plan.handedOver()).isTrue();
            assertThat(payloads(plan)).containsExactly("b");
        }

        @Test
        void ofAMarkThisStandbyNeverSawIsNoHandoverAndSaysAGapIsPossible() {
            // it began to listen after the leader's handover mark: what came between is nobody's
            seeAtTheLock(LEADER);
            hold("c");
            control(Protocol.done("aa01"), LEADER);

            Succession.Plan plan = succession.takeOver(CrashDelivery.AT_LEAST_ONCE);

            assertThat(plan.handedOver()).isFalse();
            assertThat(plan.gapPossible()).isTrue();
            assertThat(payloads(plan)).containsExactly("c");
        }

        @Test
        void isUndoneByALaterLeaderThatDidNotHandOver() {
            seeAtTheLock(LEADER, OTHER_LEADER);
            control(Protocol.mark("aa01"), LEADER);
            hold("a");
            control(Protocol.done("aa01"), LEADER);
            control(Protocol.lead("bb00"), OTHER_LEADER); // another standby took over, then died
            hold("b");

            Succession.Plan plan = succession.takeOver(CrashDelivery.AT_LEAST_ONCE);

            assertThat(plan.handedOver()).isFalse();
            assertThat(plan.gapPossible()).isFalse();
            assertThat(payloads(plan)).containsExactly("a", "b");
            assertThat(plan.possibleRepeats()).isEqualTo(2);
        }

        @Test
        void isUndoneByAProgressAfterTheDone() {
            seeAtTheLock(LEADER);
            control(Protocol.mark("aa01"), LEADER);
            hold("a");
            control(Protocol.done("aa01"), LEADER);
            control(Protocol.progress(null, null), LEADER);

            assertThat(succession.takeOver(CrashDelivery.AT_LEAST_ONCE).handedOver())
                    .isFalse();
        }
    }

    @Nested
    class AFirstLeader {

        @ParameterizedTest
        @EnumSource(CrashDelivery.class)
        void handsOverAllItReadAsNobodysBeforeWhateverTheCrashDelivery(CrashDelivery crashDelivery) {
            hold("a", "b"); // read between its LISTEN and its lock: no leader existed to handle them

            Succession.Plan plan = succession.takeOver(crashDelivery);

            assertThat(plan.firstLeader()).isTrue();
            assertThat(payloads(plan)).containsExactly("a", "b");
            assertThat(plan.handedOver()).isFalse();
            assertThat(plan.possibleRepeats())
                    .as("nobody can have handled them")
                    .isZero();
            assertThat(plan.skipped()).isZero();
        }

        @Test
        void isNotOneThatFoundALeaderAsItBeganToListenEvenAnIdleOneThatSaidNothing() {
            seeAtTheLock(LEADER);
            succession.ledWhenListening();
            hold("a");

            Succession.Plan plan = succession.takeOver(CrashDelivery.AT_LEAST_ONCE);

            assertThat(plan.firstLeader()).isFalse();
            assertThat(plan.possibleRepeats())
                    .as("the idle leader may have handled it before it died")
                    .isEqualTo(1);
        }

        @Test
        void isNotOneThatHeardALeaderAfterItBeganToListenEvenOneNeverSeenAtTheLock() {
            hold("a");
            control(Protocol.lead("aa00"), STRANGER);
            hold("b");

            Succession.Plan plan = succession.takeOver(CrashDelivery.AT_LEAST_ONCE);

            assertThat(plan.firstLeader()).isFalse();
            assertThat(plan.possibleRepeats()).isEqualTo(2);
        }
    }

    @Nested
    class AfterACrash {

        private void leaderConfirmsThenDies() {
            seeAtTheLock(LEADER);
            hold("a");
            control(Protocol.progress("aa01", null), LEADER);
            hold("b", "c");
            control(Protocol.progress("aa02", "aa01"), LEADER); // a is handled
            hold("d");
        }

        @Test
        void atLeastOnceHandlesAgainEverythingSinceTheLastConfirmedMark() {
            leaderConfirmsThenDies();

            Succession.Plan plan = succession.takeOver(CrashDelivery.AT_LEAST_ONCE);

            assertThat(payloads(plan)).containsExactly("b", "c", "d");
            assertThat(plan.handedOver()).isFalse();
            assertThat(plan.gapPossible()).isFalse();
            assertThat(plan.possibleRepeats()).isEqualTo(3);
            assertThat(plan.skipped()).isZero();
        }

        @Test
        void atMostOnceSkipsEverythingSinceTheLastConfirmedMark() {
            leaderConfirmsThenDies();

            Succession.Plan plan = succession.takeOver(CrashDelivery.AT_MOST_ONCE);

            assertThat(payloads(plan)).isEmpty();
            assertThat(plan.handedOver()).isFalse();
            assertThat(plan.possibleRepeats()).isZero();
            assertThat(plan.skipped()).isEqualTo(3);
        }

        @Test
        void aConfirmationOfAnEarlierMarkAfterALaterOneDropsNothingMore() {
            leaderConfirmsThenDies();
            control(Protocol.progress(null, "aa02"), LEADER); // b and c are handled
            control(Protocol.progress(null, "aa01"), LEADER);

            assertThat(payloads(succession.takeOver(CrashDelivery.AT_LEAST_ONCE)))
                    .containsExactly("d");
        }

        @Test
        void aConfirmationOfAMarkSentBeforeThisStandbyListenedDropsNothingAndLeavesAGapPossible() {
            seeAtTheLock(LEADER);
            hold("a", "b");
            control(Protocol.progress(null, "aa99"), LEADER);

            Succession.Plan plan = succession.takeOver(CrashDelivery.AT_LEAST_ONCE);

            assertThat(payloads(plan)).containsExactly("a", "b");
            assertThat(plan.gapPossible()).isTrue();
        }

        @Test
        void aLeadersOwnLeadMarkCanBeConfirmed() {
            seeAtTheLock(OTHER_LEADER);
            hold("before");
            control(Protocol.lead("aa00"), OTHER_LEADER);
            hold("a");
            control(Protocol.progress("aa01", "aa00"), OTHER_LEADER);
            hold("b");

            Succession.Plan plan = succession.takeOver(CrashDelivery.AT_LEAST_ONCE);

            assertThat(payloads(plan)).containsExactly("a", "b");
            assertThat(plan.gapPossible()).isFalse();
        }
    }

    @Nested
    class Readiness {

        @Test
        void aStandbyIsNotReadyUntilItsLeaderConfirmsAMarkItSaw() {
            seeAtTheLock(LEADER);
            hold("a");
            assertThat(succession.ready()).isFalse();
            control(Protocol.progress("aa02", "aa01"), LEADER); // aa01 was before it listened
            assertThat(succession.ready()).isFalse();

            control(Protocol.progress("aa03", "aa02"), LEADER);

            assertThat(succession.ready()).isTrue();
        }

        @Test
        void itStaysReadyAcrossANewLeadersTakeover() {
            seeAtTheLock(LEADER, OTHER_LEADER);
            control(Protocol.progress("aa01", null), LEADER);
            control(Protocol.progress(null, "aa01"), LEADER);
            hold("a");
            control(Protocol.lead("bb00"), OTHER_LEADER); // the leader crashed; another took over

            assertThat(succession.ready()).isTrue();
            assertThat(succession.takeOver(CrashDelivery.AT_LEAST_ONCE).gapPossible())
                    .isFalse();
        }
    }

    @Nested
    class Trust {

        @Test
        void controlMessagesOfASessionNeverSeenAtTheLockAreIgnored() {
            seeAtTheLock(LEADER);
            hold("a");
            control(Protocol.progress("ee01", null), STRANGER);
            hold("b");
            control(Protocol.progress(null, "ee01"), STRANGER);
            control(Protocol.mark("ee02"), STRANGER);
            control(Protocol.done("ee02"), STRANGER);

            Succession.Plan plan = succession.takeOver(CrashDelivery.AT_LEAST_ONCE);

            assertThat(succession.trusts(STRANGER)).isFalse();
            assertThat(plan.handedOver()).isFalse();
            assertThat(payloads(plan)).containsExactly("a", "b");
        }

        @Test
        void aLeadFromAStrangerEarnsNoTrustButSpoilsAHandover() {
            seeAtTheLock(LEADER);
            control(Protocol.mark("aa01"), LEADER);
            hold("a");
            control(Protocol.done("aa01"), LEADER);
            control(Protocol.lead("ee00"), STRANGER);
            hold("b");
            control(Protocol.mark("ee01"), STRANGER);
            control(Protocol.done("ee01"), STRANGER);

            Succession.Plan plan = succession.takeOver(CrashDelivery.AT_LEAST_ONCE);

            assertThat(succession.trusts(STRANGER)).isFalse();
            assertThat(plan.handedOver())
                    .as("someone may have handled after the done")
                    .isFalse();
            assertThat(payloads(plan)).as("the stranger's done drops nothing").containsExactly("a", "b");
        }

        @Test
        void aConfirmationMustNameAMarkOfItsOwnSender() {
            seeAtTheLock(LEADER, OTHER_LEADER);
            hold("a");
            control(Protocol.progress("aa01", null), LEADER);
            hold("b");
            control(Protocol.progress(null, "aa01"), OTHER_LEADER);

            assertThat(payloads(succession.takeOver(CrashDelivery.AT_LEAST_ONCE)))
                    .containsExactly("a", "b");
        }
    }

    @Nested
    class WhatTheDiskRefuses {

        private final long oneSize = Backlog.sizeOf(n("a"));
        private final Succession refused = new Succession(new HeldNotifications(3 * oneSize, () -> {
            throw new IOException("No space left on device");
        }));

        @AfterEach
        void close() {
            refused.close();
        }

        private void holdRefused(String... payloads) {
            for (String payload : payloads) {
                refused.hold(n(payload));
            }
        }

        private void controlRefused(String message) {
            refused.control(Objects.requireNonNull(ControlMessage.parse(message)), LEADER);
        }

        @Test
        void isDroppedOldestFirstAndReportedSkipped() {
            refused.observe(Set.of(LEADER));
            refused.ledWhenListening(); // an idle leader: it said nothing yet
            holdRefused("a", "b", "c", "d", "e");

            Succession.Plan plan = refused.takeOver(CrashDelivery.AT_LEAST_ONCE);

            List<String> kept = payloads(plan);
            assertThat(List.of("a", "b", "c", "d", "e")).endsWith(kept.toArray(String[]::new));
            assertThat(kept).hasSizeBetween(1, 4);
            assertThat(plan.possibleRepeats()).isEqualTo(kept.size());
            assertThat(plan.skipped()).isEqualTo(5 - kept.size());
            assertThat(refused.droppedTotal()).isEqualTo(5 - kept.size());
        }

        @Test
        void spoilsAHandoverThatNeededItAndMakesTheStandbyNotReady() {
            refused.observe(Set.of(LEADER));
            controlRefused(Protocol.progress("aa00", null));
            controlRefused(Protocol.mark("aa01"));
            controlRefused(Protocol.progress(null, "aa00"));
            assertThat(refused.ready()).isTrue();
            holdRefused("a", "b", "c", "d", "e");
            controlRefused(Protocol.done("aa01"));

            assertThat(refused.ready()).isFalse();
            Succession.Plan plan = refused.takeOver(CrashDelivery.AT_LEAST_ONCE);
            assertThat(plan.handedOver()).isFalse();
            assertThat(plan.skipped()).isPositive();
        }

        @Test
        void isForgottenOnceAConfirmationSaysItWasHandled() {
            refused.observe(Set.of(LEADER));
            holdRefused("a", "b", "c", "d", "e");
            controlRefused(Protocol.mark("aa01"));
            holdRefused("f");
            controlRefused(Protocol.done("aa01"));

            Succession.Plan plan = refused.takeOver(CrashDelivery.AT_LEAST_ONCE);

            assertThat(plan.handedOver()).isTrue();
            assertThat(payloads(plan)).containsExactly("f");
            assertThat(plan.skipped()).isZero();
        }

        @Test
        void atMostOnceSkipsWhatItKeptAndWhatItDropped() {
            refused.observe(Set.of(LEADER));
            refused.ledWhenListening(); // an idle leader: it said nothing yet
            holdRefused("a", "b", "c", "d", "e");

            Succession.Plan plan = refused.takeOver(CrashDelivery.AT_MOST_ONCE);

            assertThat(payloads(plan)).isEmpty();
            assertThat(plan.skipped()).isEqualTo(5);
        }
    }
}
