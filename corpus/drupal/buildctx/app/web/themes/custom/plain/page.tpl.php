<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title><?php print check_plain($title); ?> | <?php print check_plain($site_name); ?></title>
</head>
<body>
  <header><a href="/"><?php print check_plain($site_name); ?></a></header>
  <main>
    <h1><?php print check_plain($title); ?></h1>
    <?php print $content; ?>
  </main>
</body>
</html>
