package io.github.pgiplisten.sample;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.scheduling.annotation.EnableScheduling;

/**
 * One instance of the demo fleet, an ordinary Spring Boot application: {@link DemoListener} handles the demo channel
 * with {@code @PgListener} and says when this instance leads, {@link DemoPublisher} publishes on an interval when
 * {@code demo.publish-interval} is set. Start several against one PostgreSQL to watch one of them listen; the fleet
 * demo ({@code ./run-demo}) does that unattended.
 */
@SpringBootApplication
@EnableScheduling
public class SampleApplication {

    public static void main(String[] args) {
        SpringApplication.run(SampleApplication.class, args);
    }
}
