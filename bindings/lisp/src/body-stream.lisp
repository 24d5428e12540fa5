;;;; Streamed request bodies: with :STREAM-BODIES, the library hands a
;;;; deferred request's body to on_body piece by piece on the loop thread;
;;;; a BODY-STREAM queues the pieces for a reader on another thread, and
;;;; pauses the connection's reading while too much is queued (TCP then
;;;; slows the client), resuming once the reader has caught up.

(in-package #:c10k)

(defparameter *body-high-water* (* 256 1024)
  "Queued body bytes above which the connection stops reading.")

(defparameter *body-low-water* (* 64 1024)
  "Queued body bytes below which a paused connection reads again.")

(define-condition body-aborted (stream-error) ()
  (:report (lambda (c stream)
             (declare (ignore c))
             (format stream "The client left before sending the whole request body.")))
  (:documentation "Signalled when reading the body of a request whose client left."))

(defclass body-stream (sb-gray:fundamental-binary-input-stream)
  ((reply :initarg :reply :reader body-stream-reply)
   (chunks :initform '() :documentation "Queued octet vectors, oldest first.")
   (tail :initform nil)
   (offset :initform 0 :documentation "Bytes already read from the first chunk.")
   (queued :initform 0)
   (state :initform :open :documentation ":OPEN, :ENDED (all received) or :ABORTED.")
   (paused :initform nil)
   (lock :initform (bt:make-lock "c10k body"))
   (ready :initform (bt:make-condition-variable)))
  (:documentation "The body of a request, read as it arrives: a binary input
stream of (unsigned-byte 8). Read it on another thread than the loop's."))

(defmethod stream-element-type ((stream body-stream)) '(unsigned-byte 8))

(defun body-stream-put (stream octets end)
  "Queues OCTETS (and the end of the body if END) for the reader. Returns
NIL when the connection should stop reading. On the loop thread."
  (with-slots (chunks tail queued state paused lock ready) stream
    (bt:with-lock-held (lock)
      (when (plusp (length octets))
        (let ((cell (list octets)))
          (if chunks (setf (cdr tail) cell) (setf chunks cell))
          (setf tail cell))
        (incf queued (length octets)))
      (when end (setf state :ended))
      (bt:condition-notify ready)
      (setf paused (and (not end) (> queued *body-high-water*)))
      (not paused))))

(defun body-stream-abort (stream)
  "Wakes the reader with the news that the client left."
  (with-slots (state lock ready) stream
    (bt:with-lock-held (lock)
      (when (eq state :open) (setf state :aborted))
      (bt:condition-notify ready))))

(defun take-octets (stream buffer start end)
  "Copies up to END - START queued bytes into BUFFER, waiting for the first
one; returns how many (0 at the end of the body)."
  (with-slots (reply chunks offset queued state paused lock ready) stream
    (let ((resume nil) (count 0))
      (bt:with-lock-held (lock)
        (loop while (and (null chunks) (eq state :open))
              do (bt:condition-wait ready lock))
        (when (and (null chunks) (eq state :aborted))
          (error 'body-aborted :stream stream))
        (loop while (and chunks (< (+ start count) end))
              do (let* ((chunk (first chunks))
                        (n (min (- (length chunk) offset) (- end start count))))
                   (replace buffer chunk :start1 (+ start count) :start2 offset :end2 (+ offset n))
                   (incf count n)
                   (incf offset n)
                   (when (= offset (length chunk))
                     (pop chunks)
                     (setf offset 0))))
        (decf queued count)
        (when (and paused (< queued *body-low-water*))
          (setf paused nil resume t)))
      (when resume
        (sb-sys:without-interrupts (c10k-reply-resume-body (reply-handle reply))))
      count)))

(defmethod sb-gray:stream-read-sequence ((stream body-stream) sequence &optional (start 0) end)
  (let ((end (or end (length sequence))))
    (loop with position = start
          while (< position end)
          for n = (take-octets stream sequence position end)
          until (zerop n)
          do (incf position n)
          finally (return position))))

(defmethod sb-gray:stream-read-byte ((stream body-stream))
  (let ((one (make-array 1 :element-type '(unsigned-byte 8))))
    (if (zerop (take-octets stream one 0 1)) :eof (aref one 0))))

(defmethod sb-gray:stream-listen ((stream body-stream))
  (with-slots (chunks lock) stream
    (bt:with-lock-held (lock) (and chunks t))))

(defun make-empty-body-stream ()
  "An input stream at its end: the body of a request that has none."
  (make-concatenated-stream))
