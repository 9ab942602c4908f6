<?php
declare(strict_types=1);

final class ResizeImage
{
    public function handle(array $p): void
    {
        if (!isset($p['path'], $p['width'])) {
            throw new InvalidArgumentException('missing path or width');
        }
        if (!is_file($p['path'])) {
            throw new RuntimeException("no such file {$p['path']}");
        }
        // Thumbnails are produced by the image service; the worker records
        // the request so the service picks it up.
        $req = ['path' => $p['path'], 'width' => (int)$p['width'], 'requested_at' => date('c')];
        file_put_contents($p['path'] . '.resize.json', json_encode($req));
    }
}
