package io.github.pgiplisten.core;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;

import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Which notifications a new leader owns, from what its standby kept and the control messages it read (the marker
 * classification of the takeover protocol).
 */
class SuccessionTest {

    private static final int LEADER = 100;
    private static final int OTHER_LEADER = 300;
    private static final int STRANGER = 200;
    private static final long ROOMY = 64L * 1024 * 1024;

    private final Succession succession = new Succession(ROOMY);

    private static PgNotification n(String payload) {
        return new PgNotification("orders", payload, 4711);
    }

    private void hold(String... payloads) {
        for (String payload : payloads) {
            succession.hold(n(payload));
        }
    }

    private void control(String message, int pid) {
        succession.control(java.util.Objects.requireNonNull(ControlMessage.parse(message)), pid);
    }

    private static List<String> payloads(Succession.Plan plan) {
        return plan.toHandle().stream().map(PgNotification::payload).toList();
    }

    @Nested
    class AHandover {

        @ParameterizedTest
        @EnumSource(CrashDelivery.class)
        void ownsExactlyWhatCameAfterTheDoneMarkWhateverTheCrashDelivery(CrashDelivery crashDelivery) {
            succession.trust(LEADER);
            hold("a", "b");
            control(ControlMessage.mark("aa01"), LEADER);
            hold("c", "d");
            control(ControlMessage.done("aa01"), LEADER);

            Succession.Plan plan = succession.takeOver(crashDelivery);

            assertThat(payloads(plan)).containsExactly("c", "d");
            assertThat(plan.handedOver()).isTrue();
            assertThat(plan.possibleRepeats()).isZero();
            assertThat(plan.skipped()).isZero();
        }

        @Test
        void ofALeaderThatTookOverWhileThisStandbyListenedCounts() {
            control(ControlMessage.lead("aa00"), OTHER_LEADER);
            hold("a");
            control(ControlMessage.mark("aa01"), OTHER_LEADER);
            hold("b");
            control(ControlMessage.done("aa01"), OTHER_LEADER);

            Succession.Plan plan = succession.takeOver(CrashDelivery.AT_LEAST_ONCE);

            assertThat(succession.trusts(OTHER_LEADER)).isTrue();
            assertThat(plan.handedOver()).isTrue();
            assertThat(payloads(plan)).containsExactly("b");
        }

        @Test
        void isUndoneByALaterLeaderThatDidNotHandOver() {
            succession.trust(LEADER);
            control(ControlMessage.mark("aa01"), LEADER);
            hold("a");
            control(ControlMessage.done("aa01"), LEADER);
            control(ControlMessage.lead("bb00"), OTHER_LEADER); // another standby took over, then died
            hold("b");

            Succession.Plan plan = succession.takeOver(CrashDelivery.AT_LEAST_ONCE);

            assertThat(plan.handedOver()).isFalse();
            assertThat(payloads(plan)).containsExactly("a", "b");
            assertThat(plan.possibleRepeats()).isEqualTo(2);
        }

        @Test
        void isUndoneByAProgressAfterTheDone() {
            succession.trust(LEADER);
            control(ControlMessage.mark("aa01"), LEADER);
            hold("a");
            control(ControlMessage.done("aa01"), LEADER);
            control(ControlMessage.progress(null, null), LEADER);

            assertThat(succession.takeOver(CrashDelivery.AT_LEAST_ONCE).handedOver()).isFalse();
        }
    }

    @Nested
    class AfterACrash {

        private void leaderConfirmsThenDies() {
            succession.trust(LEADER);
            hold("a");
            control(ControlMessage.progress("aa01", null), LEADER);
            hold("b", "c");
            control(ControlMessage.progress("aa02", "aa01"), LEADER); // a is handled
            hold("d");
        }

        @Test
        void atLeastOnceHandlesAgainEverythingSinceTheLastConfirmedMark() {
            leaderConfirmsThenDies();

            Succession.Plan plan = succession.takeOver(CrashDelivery.AT_LEAST_ONCE);

            assertThat(payloads(plan)).containsExactly("b", "c", "d");
            assertThat(plan.handedOver()).isFalse();
            assertThat(plan.possibleRepeats()).isEqualTo(3);
            assertThat(plan.skipped()).isZero();
        }

        @Test
        void atMostOnceSkipsEverythingSinceTheLastConfirmedMark() {
            leaderConfirmsThenDies();

            Succession.Plan plan = succession.takeOver(CrashDelivery.AT_MOST_ONCE);

            assertThat(plan.toHandle()).isEmpty();
            assertThat(plan.handedOver()).isFalse();
            assertThat(plan.possibleRepeats()).isZero();
            assertThat(plan.skipped()).isEqualTo(3);
        }

        @Test
        void aConfirmationOfAnEarlierMarkAfterALaterOneDropsNothingMore() {
            leaderConfirmsThenDies();
            control(ControlMessage.progress(null, "aa02"), LEADER); // b and c are handled
            control(ControlMessage.progress(null, "aa01"), LEADER);

            assertThat(payloads(succession.takeOver(CrashDelivery.AT_LEAST_ONCE))).containsExactly("d");
        }

        @Test
        void aConfirmationOfAMarkSentBeforeThisStandbyListenedDropsNothing() {
            succession.trust(LEADER);
            hold("a", "b");
            control(ControlMessage.progress(null, "aa99"), LEADER);

            assertThat(payloads(succession.takeOver(CrashDelivery.AT_LEAST_ONCE))).containsExactly("a", "b");
        }

        @Test
        void aLeadersOwnLeadMarkCanBeConfirmed() {
            hold("before");
            control(ControlMessage.lead("aa00"), OTHER_LEADER);
            hold("a");
            control(ControlMessage.progress("aa01", "aa00"), OTHER_LEADER);
            hold("b");

            assertThat(payloads(succession.takeOver(CrashDelivery.AT_LEAST_ONCE))).containsExactly("a", "b");
        }
    }

    @Nested
    class Trust {

        @Test
        void controlMessagesOfASessionThatNeverHeldTheLockAreIgnored() {
            succession.trust(LEADER);
            hold("a");
            control(ControlMessage.progress("ee01", null), STRANGER);
            hold("b");
            control(ControlMessage.progress(null, "ee01"), STRANGER);
            control(ControlMessage.mark("ee02"), STRANGER);
            control(ControlMessage.done("ee02"), STRANGER);

            Succession.Plan plan = succession.takeOver(CrashDelivery.AT_LEAST_ONCE);

            assertThat(succession.trusts(STRANGER)).isFalse();
            assertThat(plan.handedOver()).isFalse();
            assertThat(payloads(plan)).containsExactly("a", "b");
        }

        @Test
        void aConfirmationMustNameAMarkOfItsOwnSender() {
            succession.trust(LEADER);
            succession.trust(OTHER_LEADER);
            hold("a");
            control(ControlMessage.progress("aa01", null), LEADER);
            hold("b");
            control(ControlMessage.progress(null, "aa01"), OTHER_LEADER);

            assertThat(payloads(succession.takeOver(CrashDelivery.AT_LEAST_ONCE))).containsExactly("a", "b");
        }

        @Test
        void noHolderFoundTrustsNobody() {
            succession.trust(0);

            assertThat(succession.trusts(0)).isFalse();
        }
    }

    @Nested
    class TheBufferLimit {

        private final long oneSize = NotificationDispatcher.sizeOf(n("a"));
        private final Succession small = new Succession(3 * oneSize);

        private void holdSmall(String... payloads) {
            for (String payload : payloads) {
                small.hold(n(payload));
            }
        }

        private void controlSmall(String message) {
            small.control(java.util.Objects.requireNonNull(ControlMessage.parse(message)), LEADER);
        }

        @Test
        void pushesOutTheOldestAndReportsThemSkipped() {
            small.trust(LEADER);
            holdSmall("a", "b", "c", "d", "e");

            Succession.Plan plan = small.takeOver(CrashDelivery.AT_LEAST_ONCE);

            assertThat(payloads(plan)).containsExactly("c", "d", "e");
            assertThat(plan.possibleRepeats()).isEqualTo(3);
            assertThat(plan.skipped()).isEqualTo(2);
        }

        @Test
        void spoilsAHandoverThatNeededWhatItPushedOut() {
            small.trust(LEADER);
            controlSmall(ControlMessage.mark("aa01"));
            holdSmall("a", "b", "c", "d", "e");
            controlSmall(ControlMessage.done("aa01"));

            Succession.Plan plan = small.takeOver(CrashDelivery.AT_LEAST_ONCE);

            assertThat(plan.handedOver()).isFalse();
            assertThat(payloads(plan)).containsExactly("c", "d", "e");
            assertThat(plan.skipped()).isEqualTo(2);
        }

        @Test
        void forgetsWhatItPushedOutOnceAConfirmationSaysItWasHandled() {
            small.trust(LEADER);
            holdSmall("a", "b", "c", "d", "e");
            controlSmall(ControlMessage.mark("aa01"));
            holdSmall("f");
            controlSmall(ControlMessage.done("aa01"));

            Succession.Plan plan = small.takeOver(CrashDelivery.AT_LEAST_ONCE);

            assertThat(plan.handedOver()).isTrue();
            assertThat(payloads(plan)).containsExactly("f");
            assertThat(plan.skipped()).isZero();
        }

        @Test
        void atMostOnceSkipsWhatItKeptAndWhatItPushedOut() {
            small.trust(LEADER);
            holdSmall("a", "b", "c", "d", "e");

            Succession.Plan plan = small.takeOver(CrashDelivery.AT_MOST_ONCE);

            assertThat(plan.toHandle()).isEmpty();
            assertThat(plan.skipped()).isEqualTo(5);
        }
    }

    @Test
    void aTakeoverClearsWhatWasKept() {
        succession.trust(LEADER);
        hold("a", "b");
        succession.takeOver(CrashDelivery.AT_LEAST_ONCE);

        Succession.Plan again = succession.takeOver(CrashDelivery.AT_MOST_ONCE);

        assertThat(again.toHandle()).isEmpty();
        assertThat(again.skipped()).isZero();
    }
}
