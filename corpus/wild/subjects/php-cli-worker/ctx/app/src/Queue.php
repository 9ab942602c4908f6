<?php
declare(strict_types=1);

/**
 * A file-spool queue: producers drop JSON files into incoming/<queue>/,
 * a worker moves one into processing/ (rename is atomic) to reserve it.
 */
final class Queue
{
    public function __construct(private string $spool, private string $name)
    {
        @mkdir("$spool/incoming/$name", 0775, true);
    }

    public function reserve(): ?array
    {
        $files = glob("{$this->spool}/incoming/{$this->name}/*.json") ?: [];
        sort($files);
        foreach ($files as $f) {
            $dst = "{$this->spool}/processing/" . basename($f);
            if (@rename($f, $dst)) {
                $job = json_decode((string)file_get_contents($dst), true, 16, JSON_THROW_ON_ERROR);
                $job['file'] = $dst;
                $job['attempts'] = ($job['attempts'] ?? 0) + 1;
                return $job;
            }
        }
        return null;
    }

    public function complete(array $job): void
    {
        rename($job['file'], "{$this->spool}/done/" . basename($job['file']));
    }

    public function fail(array $job, string $reason, int $tries): void
    {
        $file = $job['file'];
        unset($job['file']);
        $job['last_error'] = $reason;
        file_put_contents($file, json_encode($job, JSON_PRETTY_PRINT));
        $dir = $job['attempts'] >= $tries ? 'failed' : "incoming/{$this->name}";
        rename($file, "{$this->spool}/$dir/" . basename($file));
    }
}
