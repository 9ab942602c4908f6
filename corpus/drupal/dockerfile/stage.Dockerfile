
# The sample: built FROM the drupal image. An ENTRYPOINT set in this stage
# clears the inherited CMD, as it did in the sample.
FROM drupal
