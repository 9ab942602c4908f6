<?php
declare(strict_types=1);

require __DIR__ . '/src/Queue.php';
require __DIR__ . '/src/Jobs/SendInvoice.php';
require __DIR__ . '/src/Jobs/ResizeImage.php';

$opts = getopt('', ['queue:', 'sleep:', 'tries:', 'max-time:']) + [
    'queue' => 'default', 'sleep' => '3', 'tries' => '3', 'max-time' => '0',
];
$spool = getenv('QUEUE_SPOOL') ?: '/var/spool/jobs';
$queue = new Queue($spool, (string)$opts['queue']);
$handlers = [
    'send-invoice' => new SendInvoice(),
    'resize-image' => new ResizeImage(),
];

$stop = false;
pcntl_async_signals(true);
foreach ([SIGTERM, SIGINT, SIGQUIT] as $sig) {
    pcntl_signal($sig, function () use (&$stop) { $stop = true; });
}

$started = time();
$maxTime = (int)$opts['max-time'];
fwrite(STDERR, sprintf("[%s] worker started on queue %s\n", date('c'), $opts['queue']));

while (!$stop) {
    if ($maxTime > 0 && time() - $started >= $maxTime) {
        fwrite(STDERR, "max-time reached, exiting so the supervisor restarts a fresh worker\n");
        break;
    }
    $job = $queue->reserve();
    if ($job === null) {
        sleep((int)$opts['sleep']);
        continue;
    }
    $handler = $handlers[$job['type']] ?? null;
    try {
        if ($handler === null) {
            throw new RuntimeException("no handler for job type {$job['type']}");
        }
        $handler->handle($job['payload']);
        $queue->complete($job);
        fwrite(STDERR, sprintf("[%s] done %s %s\n", date('c'), $job['type'], $job['id']));
    } catch (Throwable $e) {
        $queue->fail($job, $e->getMessage(), (int)$opts['tries']);
        fwrite(STDERR, sprintf("[%s] failed %s %s: %s\n", date('c'), $job['type'], $job['id'], $e->getMessage()));
    }
}
exit(0);
