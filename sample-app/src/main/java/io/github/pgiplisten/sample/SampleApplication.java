package io.github.pgiplisten.sample;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.scheduling.annotation.EnableScheduling;

/**
 * One instance of the demo fleet: it listens on a channel with {@code @PgListener}, says what it handles and when it
 * becomes the leader, and can publish on an interval. {@code java -jar sample-app.jar fleet-demo} instead runs the
 * whole experiment ({@link FleetDemo}).
 */
@SpringBootApplication
@EnableScheduling
public class SampleApplication {

    public static void main(String[] args) throws Exception {
        if (args.length > 0 && args[0].equals("fleet-demo")) {
            FleetDemo.main(java.util.Arrays.copyOfRange(args, 1, args.length));
            return;
        }
        SpringApplication.run(SampleApplication.class, args);
    }
}
